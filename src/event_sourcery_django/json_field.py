"""``ExactJSONField``: Django's ``JSONField`` writing floats that ``jsonb`` keeps as floats.

PostgreSQL's ``jsonb`` keeps a number's digits, not its notation, so a float written ``1e+20``
(as Python writes every float from 1e16 up) would load as an ``int`` (ADR 0011). The field's
encoder writes those floats positionally (``100000000000000000000.0``). For migrations the field
is a plain ``JSONField``: the schema does not change and no migration is needed.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models

from event_sourcery._core.json_values import positional_floats


class ExactJSONEncoder(json.JSONEncoder):
    """A ``JSONEncoder`` whose floats from 1e16 up are written positionally."""

    def encode(self, o: Any) -> str:
        return positional_floats(super().encode(o))


class ExactJSONField(models.JSONField):
    """A ``JSONField`` encoded by :class:`ExactJSONEncoder`; a plain ``JSONField`` to migrations."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("encoder", ExactJSONEncoder)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        if kwargs.get("encoder") is ExactJSONEncoder:
            del kwargs["encoder"]
        return name, "django.db.models.JSONField", args, kwargs
