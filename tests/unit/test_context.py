"""The release 0.6 ``Context``: components, ``EventCorrelation``, legacy extras, ``context_as``."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, ValidationError

from event_sourcery._core.context import context_as, loaded_context, stored_context
from event_sourcery.event import Context, ContextComponent, EventCorrelation


class Request(ContextComponent):
    __context_name__ = "application.request"

    user: str
    when: UUID | None = None


class Strict(ContextComponent):
    __context_name__ = "strict"

    count: int


class UserContext(Context):
    user_id: str | None = None


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class WithComponents(Context):
    pass


def test_get_returns_none_without_the_component() -> None:
    assert Context().get(Request) is None


def test_with_component_returns_a_new_context_and_keeps_the_original() -> None:
    original = Context(correlation_id=uuid4())

    updated = original.with_component(Request(user="alice"))

    assert original.components == {}
    assert updated.correlation_id == original.correlation_id
    assert updated.get(Request) == Request(user="alice")


def test_components_are_stored_in_json_mode_and_replaced_by_name() -> None:
    when = uuid4()
    context = Context().with_component(Request(user="a")).with_component(Strict(count=1))

    replaced = context.with_component(Request(user="b", when=when))

    assert replaced.components == {
        "application.request": {"user": "b", "when": str(when)},
        "strict": {"count": 1},
    }
    assert replaced.get(Request) == Request(user="b", when=when)


def test_get_validates_lazily() -> None:
    context = Context(components={"strict": {"count": "not a number"}})

    with pytest.raises(ValidationError):
        context.get(Strict)


def test_event_correlation_is_a_view_of_the_root_fields() -> None:
    correlation, causation = uuid4(), uuid4()
    context = Context(correlation_id=correlation)

    assert context.get(EventCorrelation) == EventCorrelation(correlation_id=correlation)
    assert not Context().holds(EventCorrelation)
    assert context.holds(EventCorrelation)

    moved = context.with_component(EventCorrelation(causation_id=causation))

    assert moved.correlation_id is None
    assert moved.causation_id == causation
    assert moved.components == {}


def test_holds_looks_at_the_wire_name() -> None:
    class SameName(ContextComponent):
        __context_name__ = "application.request"

    context = Context().with_component(Request(user="a"))

    assert context.holds(SameName)
    assert not context.holds(Strict)


def test_unknown_root_keywords_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Context(user_id="u")  # type: ignore[call-arg]


def test_an_empty_context_is_stored_as_before_0_6() -> None:
    assert stored_context(Context()) == {"correlation_id": None, "causation_id": None}


def test_a_context_without_components_is_stored_without_the_key() -> None:
    correlation = uuid4()

    assert stored_context(Context(correlation_id=correlation)) == {
        "correlation_id": str(correlation),
        "causation_id": None,
    }


def test_a_typed_context_subclass_stores_its_fields_at_the_root() -> None:
    stored = stored_context(UserContext(user_id="u-1"))

    assert stored == {"correlation_id": None, "causation_id": None, "user_id": "u-1"}
    assert context_as(loaded_context(stored), UserContext).user_id == "u-1"


LEGACY: dict[str, Any] = {
    "correlation_id": "0d4c9a8e-61a4-4d6c-9c49-1a1bd3e3c0aa",
    "causation_id": None,
    "user_id": "u-1",
    "tags": ["a", {"b": None}],
}


def test_legacy_extras_load_and_are_stored_again() -> None:
    loaded = loaded_context(LEGACY)

    assert isinstance(loaded, Context)
    assert loaded.correlation_id == UUID(LEGACY["correlation_id"])
    assert stored_context(loaded) == LEGACY
    enriched = loaded.with_component(Strict(count=2))
    assert stored_context(enriched) == {**LEGACY, "components": {"strict": {"count": 2}}}


def test_legacy_extras_reach_a_typed_context_that_declares_or_allows_them() -> None:
    loaded = loaded_context(LEGACY)

    typed = context_as(loaded, UserContext)
    loose = context_as(loaded, Loose)

    assert typed.user_id == "u-1"
    assert typed.correlation_id == UUID(LEGACY["correlation_id"])
    assert loose.model_extra is not None
    assert loose.model_extra["tags"] == ["a", {"b": None}]
    assert "components" not in loose.model_extra


def test_a_strict_type_gets_only_its_fields() -> None:
    context = loaded_context({**LEGACY, "components": {"strict": {"count": 1}}})

    plain = context_as(context, Context)
    declared = context_as(context, WithComponents)

    assert plain.correlation_id == context.correlation_id
    assert plain.components == {"strict": {"count": 1}}  # Context declares components
    assert declared.components == {"strict": {"count": 1}}


payloads = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
extra_names = st.text(min_size=1, max_size=10).filter(
    lambda key: key not in ("correlation_id", "causation_id", "components")
)


@given(
    correlation=st.none() | st.uuids(),
    components=st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.dictionaries(st.text(max_size=5), payloads, max_size=3),
        max_size=3,
    ),
    extras=st.dictionaries(extra_names, payloads, max_size=4),
)
def test_stored_contexts_round_trip(
    correlation: UUID | None, components: dict[str, dict[str, Any]], extras: dict[str, Any]
) -> None:
    stored: dict[str, Any] = {
        "correlation_id": None if correlation is None else str(correlation),
        "causation_id": None,
        **extras,
    }
    if components:
        stored["components"] = components

    assert stored_context(loaded_context(stored)) == stored
