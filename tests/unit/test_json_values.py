"""JSON forms of event data that come back exactly (ADR 0011)."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pydantic
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic.alias_generators import to_camel

from event_sourcery._core.json_values import exact_json_text, json_data, positional_floats


class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: float


class Leaf(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(ser_json_inf_nan="null")
    value: Any = None


class Tree(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(
        alias_generator=to_camel,
        serialize_by_alias=True,
        validate_by_name=True,
        ser_json_timedelta="float",
    )

    some_value: Any = None
    child: Tree | None = None
    leaf: Leaf = Leaf()
    mapping: dict[str, Any] = {}
    items: list[Any] = []
    ident: UUID = UUID(int=1)
    moment: datetime = datetime(2024, 1, 2, 3, 4, 5, 6)
    span: timedelta = timedelta(seconds=1.5)
    amount: Decimal = Decimal("1.50")
    colour: Colour = Colour.RED
    point: Point = dataclasses.field(default_factory=lambda: Point(x=0.5))
    tags: set[str] = {"a"}

    @pydantic.field_serializer("amount")
    def _amount(self, amount: Decimal) -> str:
        return f"{amount:.3f}"

    @pydantic.computed_field  # type: ignore[prop-decorator]
    @property
    def doubled(self) -> float:
        return 2 * self.point.x


def a_tree(value: Any) -> Tree:
    return Tree(
        some_value=value,
        child=Tree(some_value=[value], ident=uuid4()),
        leaf=Leaf(value={"v": value}),
        mapping={"m": value},
        items=[1, value],
    )


def test_json_data_is_the_json_mode_dump_for_finite_values() -> None:
    tree = a_tree(1.25)

    assert json_data(tree) == tree.model_dump(mode="json")
    assert "someValue" in json_data(tree)  # the model's own config (aliases) still applies


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_json_data_keeps_non_finite_floats_that_pydantic_writes_as_null(value: float) -> None:
    dumped = json_data(a_tree(value))

    assert a_tree(value).model_dump(mode="json")["someValue"] is None  # what it would store
    found = [
        dumped["someValue"],
        dumped["child"]["someValue"][0],
        dumped["leaf"]["value"]["v"],  # even where the nested model asks for null
        dumped["mapping"]["m"],
        dumped["items"][1],
    ]
    assert all(isinstance(item, float) and not math.isfinite(item) for item in found)


def test_json_data_follows_a_rebuilt_model() -> None:
    class Late(pydantic.BaseModel):
        value: Any = None

    json_data(Late(value=1))
    Late.model_rebuild(force=True)

    assert math.isnan(json_data(Late(value=float("nan")))["value"])


def test_json_data_uses_a_model_dump_the_class_overrides() -> None:
    class Custom(pydantic.BaseModel):
        value: int = 1

        def model_dump(self, **kwargs: Any) -> dict[str, Any]:
            return {"custom": True}

    assert json_data(Custom()) == {"custom": True}


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e20, "100000000000000000000.0"),
        (-1.5e17, "-150000000000000000.0"),
        (1e16, "10000000000000000.0"),
        (9999999999999998.0, "9999999999999998.0"),
        (1.5e-7, "1.5e-07"),
        (3.0, "3.0"),
        (10**20, "100000000000000000000"),
    ],
)
def test_exact_json_text_writes_floats_from_1e16_up_positionally(value: Any, text: str) -> None:
    assert exact_json_text(value) == text


def test_strings_that_look_like_exponents_are_left_alone() -> None:
    value = {'k"1e+20': ["1e+20", 'a\\"1e+5', 1e20], "1e+7": "x\u00e91e+9"}

    text = exact_json_text(value)

    assert json.loads(text) == value
    assert text.count("e+") == 5  # the five strings'
    assert ",100000000000000000000.0]" in text  # and the float rewritten


def test_text_without_exponents_is_returned_as_it_is() -> None:
    text = '{"a":1.5,"b":"e"}'

    assert positional_floats(text) is text


@given(st.floats(allow_nan=False, allow_infinity=False))
@example(1.7976931348623157e308)
@example(5e-324)
@example(1.2345678901234568e17)
def test_every_finite_float_is_written_in_a_form_jsonb_reads_back_as_that_float(
    value: float,
) -> None:
    text = exact_json_text(value)

    assert "e+" not in text  # jsonb would print it without a fraction: an int on reading
    assert "." in text or "e-" in text  # jsonb keeps the digits after the point
    assert float(text) == value
    assert json.loads(text) == value
    assert isinstance(json.loads(text), float)
