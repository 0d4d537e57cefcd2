"""JSON forms of event data that come back exactly (ADR 0011).

Two places where the usual tools lose a value silently:

* pydantic's JSON-mode dump writes a NaN or an Infinity held in an ``Any`` field (or a nested
  dict or list of ``Any``) as ``null``. ``json_data`` dumps with ``ser_json_inf_nan='constants'``
  instead, so the non-finite float stays a float and the core's input check refuses it, as it
  refuses one in a ``float`` field.
* PostgreSQL's ``jsonb`` keeps a number's digits, not its notation: ``1e+20`` (how Python writes
  every float from 1e16 up) comes back as ``100000000000000000000``, an ``int``. ``exact_json_text``
  writes such floats in positional notation with a ``.0``, which ``jsonb`` keeps and which reads
  back as the same float. Text columns (SQLite, MariaDB) and KurrentDB keep the text as written.
"""

from __future__ import annotations

import json
import re
import weakref
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from pydantic_core import SchemaSerializer

_SERIALIZERS: weakref.WeakKeyDictionary[type, tuple[SchemaSerializer, SchemaSerializer | None]] = (
    weakref.WeakKeyDictionary()
)


def json_data(model: BaseModel) -> dict[str, Any]:
    """``model.model_dump(mode="json")``, except that NaN and Infinity stay floats wherever they
    are (pydantic writes them as ``None`` in ``Any`` fields).

    A model class that overrides ``model_dump`` is dumped by its own ``model_dump``.
    """
    serializer = _serializer(type(model))
    if serializer is None:
        return model.model_dump(mode="json")
    data: dict[str, Any] = serializer.to_python(model, mode="json")
    return data


def _serializer(model_type: type[BaseModel]) -> SchemaSerializer | None:
    own = model_type.__pydantic_serializer__
    cached = _SERIALIZERS.get(model_type)
    if cached is not None and cached[0] is own:  # a rebuilt model has a new serializer
        return cached[1]
    keeping: SchemaSerializer | None = None
    if model_type.model_dump is BaseModel.model_dump:
        keeping = SchemaSerializer(
            model_type.__pydantic_core_schema__, {"ser_json_inf_nan": "constants"}
        )
    _SERIALIZERS[model_type] = (own, keeping)
    return keeping


_EXPONENT_FLOAT = re.compile(r'"(?:[^"\\]|\\.)*"|(-?\d+(?:\.\d+)?e\+\d+)')
"""A JSON string (skipped whole) or a number written with a positive exponent."""


def exact_json_text(value: Any) -> str:
    """``value`` as compact JSON text whose floats a ``jsonb`` column keeps as floats."""
    return positional_floats(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def positional_floats(text: str) -> str:
    """JSON ``text`` with every number written as ``1e+20`` rewritten as ``100000000000000000000.0``
    (the same float, in a form ``jsonb`` does not turn into an integer)."""
    if "e+" not in text:  # the common case: no float from 1e16 up, nothing to rewrite
        return text
    return _EXPONENT_FLOAT.sub(_positional, text)


def _positional(match: re.Match[str]) -> str:
    number = match.group(1)
    if number is None:
        return match.group(0)
    return f"{Decimal(number):f}.0"
