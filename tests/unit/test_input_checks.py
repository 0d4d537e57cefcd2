"""The core's checks of values every backend must store exactly (issue 10.7, 10.8)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest

from event_sourcery import StreamId
from event_sourcery._core.duplicate_uuid import duplicate_event_uuid
from event_sourcery._core.input_checks import check_data, naive_utc, text_problem
from event_sourcery._core.records import RawEvent
from event_sourcery.exceptions import InvalidEventData


def raw(data: object, context: object = None) -> RawEvent:
    return RawEvent(
        uuid=uuid4(),
        stream_id=StreamId(),
        created_at=datetime(2024, 1, 1),
        name="e",
        data=data,  # type: ignore[arg-type]
        context=context or {},  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    "data",
    [
        {"a": "ok", "b": ["é", 1.5, None, {"c": "\\u0000 is text"}]},
        {"emoji": "😀"},
        {"x": object()},
    ],
    ids=["plain", "non-bmp", "not-json"],
)
def test_storable_data_passes(data: object) -> None:
    check_data([raw(data)])


@pytest.mark.parametrize(
    "data",
    [{"a": "\x00"}, {"a": ["\ud800"]}, {"\x00": 1}, {"a": float("nan")}, {"a": [float("inf")]}],
    ids=["nul", "surrogate", "nul-key", "nan", "inf"],
)
def test_unstorable_data_raises(data: object) -> None:
    with pytest.raises(InvalidEventData, match="data"):
        check_data([raw(data)])


def test_unstorable_context_raises_naming_the_context() -> None:
    with pytest.raises(InvalidEventData, match="context"):
        check_data([raw({}, {"components": {"x": {"y": "\x00"}}})])


def test_text_problem_names_the_character() -> None:
    assert text_problem("plain") is None
    assert "NUL" in (text_problem("a\x00") or "")
    assert "surrogate" in (text_problem("a\udc00") or "")


def test_naive_utc_converts_aware_and_keeps_naive() -> None:
    aware = datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=-3)))
    assert naive_utc(aware) == datetime(2024, 1, 1, 15)
    assert naive_utc(datetime(2024, 1, 1)) == datetime(2024, 1, 1)


@pytest.mark.parametrize(
    ("message", "duplicate"),
    [
        ("UNIQUE constraint failed: event_sourcery_events.uuid", True),
        ("UNIQUE constraint failed: s.uuid, s.category, s.tenant_id", False),
        ("UNIQUE constraint failed: e.db_stream_id, e.version", False),
        ('unique constraint "k"\nDETAIL:  Key (uuid)=(6f1c…) already exists.', True),
        ('unique constraint "k"\nDETAIL:  Key (uuid, category, tenant_id)=(a, , ) exists', False),
        ("(1062, \"Duplicate entry 'ad1e3a99-648c-4d5a-9345-8bafb4763019' for key 'uuid'\")", True),
        (
            "(1062, \"Duplicate entry 'ad1e3a99-648c-4d5a-9345-8bafb4763019--' for key 'uuid'\")",
            False,
        ),
        ("(1062, \"Duplicate entry '3-2' for key 'ix_events_stream_id_version'\")", False),
    ],
)
def test_the_uuid_unique_violation_is_told_from_version_and_stream_ones(
    message: str, duplicate: bool
) -> None:
    assert duplicate_event_uuid(message) is duplicate
