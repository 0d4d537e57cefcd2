"""Names and values reach the database and come back verbatim, whatever their characters.

Every value below is used at once as stream name, category, tenant, context component name and
value, and event data; the stored columns are compared with the value, not only the round trip.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from event_sourcery import Event, StreamId
from event_sourcery.event import Context, Recorded, WrappedEvent
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from tests.backends.sqlalchemy.support import EVENTS, OUTBOX, STREAMS, Posted, committed, texts

AWKWARD = {
    "quotes": 'O\'Brien said "hi" `tick`',
    "percent": "100% of %s and %(name)s and {0}",
    "semicolon": "a; DROP TABLE event_sourcery_events; --",
    "sql_keywords": "SELECT * FROM WHERE NULL ORDER BY",
    "backslashes": "C:\\path\\to\\n \\' \\\\",
    "emoji": "🎉🚀 party 👩‍💻",
    "cjk": "中文字符 日本語 한국어",
    "like_wildcards": "_%_%",
    "json_like": '{"a": [1, 2]}',
    "accents": "Crème brûlée ÅÄÖ",
}


class AwkwardlyNamed(Event):
    """An event type whose registry name has quotes, %, ;, a backslash and unicode."""

    __event_name__ = "Weird 'type' \"name\" 100%; DROP -- \\ 🎉 中文"
    text: str


def case(value: str) -> Any:
    return pytest.param(value, id=next(k for k, v in AWKWARD.items() if v == value))


@pytest.mark.parametrize("value", [case(v) for v in AWKWARD.values()])
def test_awkward_names_and_values_are_stored_and_loaded_verbatim(
    backend: SQLAlchemyBackend, session: Session, engine: Engine, value: str
) -> None:
    tenant = backend.in_tenant_mode(value).with_outbox()
    stream_id = StreamId(name=value, category=value)
    context = Context(components={value: {"note": value}})
    tenant.event_store.append(
        WrappedEvent(event=Posted(text=value), version=1, context=context), stream_id=stream_id
    )
    session.commit()

    (loaded,) = tenant.event_store.load_stream(StreamId(name=value, category=value))
    assert loaded.event == Posted(text=value)
    assert loaded.context.model_dump() == context.model_dump()
    (row,) = committed(engine, STREAMS)
    assert (row.name, row.category, row.tenant_id) == (value, value, value)
    (event_row,) = committed(engine, EVENTS)
    assert event_row.data == {"text": value}
    assert event_row.event_context["components"] == {value: {"note": value}}

    published: list[Recorded] = []
    tenant.outbox.run(published.append)
    session.commit()
    (record,) = published
    assert (record.tenant_id, record.stream_id.name, record.stream_id.category) == (
        value,
        value,
        value,
    )
    assert committed(engine, OUTBOX) == []


def test_an_awkward_event_type_name_is_stored_and_loaded_verbatim(
    backend: SQLAlchemyBackend, session: Session, engine: Engine
) -> None:
    stream_id = StreamId()
    backend.event_store.append(AwkwardlyNamed(text="x"), stream_id=stream_id)
    session.commit()

    (loaded,) = backend.event_store.load_stream(stream_id)
    assert loaded.event == AwkwardlyNamed(text="x")
    assert [row.name for row in committed(engine, EVENTS)] == [AwkwardlyNamed.__event_name__]
    subscription = backend.subscriber.start_from(0).to_events([AwkwardlyNamed])
    (record,) = next(subscription.build_batch(1, 10))
    assert record.wrapped_event.event == AwkwardlyNamed(text="x")


@pytest.mark.parametrize(
    ("one", "other"),
    [("abc", "abc "), ("abc", "ABC"), ("cafe", "café"), ("a", "a\t")],
    ids=["trailing_space", "case", "accent", "trailing_tab"],
)
def test_names_differing_only_in_case_accents_or_trailing_blanks_are_distinct(
    backend: SQLAlchemyBackend, session: Session, one: str, other: str
) -> None:
    """Compared exactly (MariaDB's usual collations ignore case, accents or trailing spaces)."""
    for value in (one, other):
        tenant = backend.in_tenant_mode(value)
        tenant.event_store.append(
            Posted(text=f"{value}/name"), stream_id=StreamId(name=value, category="same")
        )
        tenant.event_store.append(
            Posted(text=f"{value}/category"), stream_id=StreamId(name="same", category=value)
        )
    session.commit()

    for value in (one, other):
        store = backend.in_tenant_mode(value).event_store
        assert texts(store, StreamId(name=value, category="same")) == [(1, f"{value}/name")]
        assert texts(store, StreamId(name="same", category=value)) == [(1, f"{value}/category")]
