"""JSON forms of event data that come back exactly.

pydantic's JSON-mode dump writes a NaN or an Infinity held in an ``Any`` field (or a nested dict
or list of ``Any``) as ``null``. ``json_data`` dumps with ``ser_json_inf_nan='constants'``
instead, so the non-finite float stays a float and the core's input check refuses it, as it
refuses one in a ``float`` field.
"""

from __future__ import annotations

import weakref
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
