"""Stream-name encoding and the subscription filters built from it (no server needed)."""

from __future__ import annotations

import re
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_sourcery import StreamId
from event_sourcery.exceptions import EventStoreException, IllegalCategoryName, IllegalTenantId
from event_sourcery_kurrentdb.stream import SNAPSHOT_SUFFIX, Name, event_types, scope

# characters that a stream name can hold: anything UTF-8 encodes except the separator
parts = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="-"), max_size=20)
categories = parts.filter(lambda c: not c.startswith("$"))


def anchored(pattern: str) -> re.Pattern[str]:
    """The regex as the client sends it: ``^`` + pattern + ``$``."""
    return re.compile("^" + pattern + "$")


def test_default_tenant_without_category_gives_the_documented_layout() -> None:
    stream_id = StreamId(UUID("12345678123456781234567812345678"))
    assert str(Name(stream_id, "")) == "--12345678123456781234567812345678"


def test_category_and_tenant_are_the_first_two_parts() -> None:
    stream_id = StreamId(UUID("12345678123456781234567812345678"), category="orders")
    name = Name(stream_id, "acme")
    assert str(name) == "orders-acme-12345678123456781234567812345678"
    assert name.snapshot == str(name) + SNAPSHOT_SUFFIX


@given(category=categories, tenant=parts, name=st.none() | st.text(max_size=30))
def test_names_round_trip(category: str, tenant: str, name: str | None) -> None:
    stream_id = (
        StreamId(name=name, category=category or None)
        if name
        else StreamId(category=category or None)
    )
    encoded = Name(stream_id, tenant)
    parsed = Name.parse(str(encoded), name or None)
    assert parsed is not None
    assert parsed == encoded
    assert parsed.stream_id.category == (category or None)
    assert parsed.stream_id.name == (name or None)
    assert parsed.tenant_id == tenant


@given(category=categories, tenant=parts)
def test_snapshot_and_metadata_streams_are_not_event_streams(category: str, tenant: str) -> None:
    name = Name(StreamId(category=category or None), tenant)
    assert Name.parse(name.snapshot) is None
    assert Name.parse("$$" + str(name)) is None
    assert not anchored(scope()).match(name.snapshot)
    assert not anchored(scope()).match("$$" + str(name))
    assert not anchored(scope(category)).match(name.snapshot)


@pytest.mark.parametrize("category", ["a-b", "-", "orders-", "$system", "\ud800"])
def test_categories_that_cannot_be_encoded_are_illegal(category: str) -> None:
    with pytest.raises(IllegalCategoryName) as caught:
        Name(StreamId(category=category), "")
    assert isinstance(caught.value, EventStoreException)


@pytest.mark.parametrize("tenant", ["a-b", "-", "\udfff"])
def test_tenants_that_cannot_be_encoded_are_illegal(tenant: str) -> None:
    with pytest.raises(IllegalTenantId):
        Name(StreamId(), tenant)


@given(category=categories, other=categories, tenant=parts)
def test_a_category_filter_matches_exactly_its_category(
    category: str, other: str, tenant: str
) -> None:
    own = Name(StreamId(category=category or None), tenant)
    foreign = Name(StreamId(category=other or None), tenant)
    pattern = anchored(scope(category))
    assert pattern.match(str(own))
    assert bool(pattern.match(str(foreign))) == ((other or "") == (category or ""))


def test_a_category_filter_does_not_match_a_longer_category_or_regex_lookalikes() -> None:
    pattern = anchored(scope("ord.rs"))
    assert pattern.match(str(Name(StreamId(category="ord.rs"), "")))
    assert not pattern.match(str(Name(StreamId(category="orders"), "")))
    assert not pattern.match(str(Name(StreamId(category="xord.rs"), "")))
    assert not pattern.match(str(Name(StreamId(category="ord.rsx"), "")))


@given(category=categories, tenant=parts)
def test_the_all_filter_matches_every_event_stream(category: str, tenant: str) -> None:
    assert anchored(scope()).match(str(Name(StreamId(category=category or None), tenant)))


def test_event_type_filter_is_exact_and_dots_are_literal() -> None:
    pattern = anchored(event_types(["shop.Ordered", "Paid"]))
    assert pattern.match("shop.Ordered")
    assert pattern.match("Paid")
    assert not pattern.match("shopXOrdered")
    assert not pattern.match("shop.OrderedLater")
    assert not pattern.match("Paid2")
    assert not pattern.match("xPaid")


@given(names=st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=4))
def test_event_type_filter_matches_only_the_given_names(names: list[str]) -> None:
    pattern = anchored(event_types(names))
    for name in names:
        assert pattern.match(name)
        assert not pattern.match(name + "x")


def test_foreign_stream_names_do_not_parse() -> None:
    for stream_name in ["orders", "a-b", "a-b-c", "a-b-" + "g" * 32, "a-b-c-" + "0" * 32]:
        assert Name.parse(stream_name) is None
