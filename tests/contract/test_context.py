"""Context components and enrichers (SPEC §20.1, §20.2) on every backend.

Enriched contexts are checked where users see them: loads, subscriptions, the outbox and
in-transaction listeners. Contexts stored before release 0.6 (extra root fields) are written as
stored data through the backend's storage strategy, as the existing library wrote them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from event_sourcery import Event, StreamId, StreamUUID
from event_sourcery._core.versioning import ExplicitVersioning
from event_sourcery.backend import Backend
from event_sourcery.event import (
    Context,
    ContextComponent,
    EventContextEnricher,
    EventCorrelation,
    Recorded,
    Serde,
    WrappedEvent,
)
from event_sourcery.event_sourcing import Aggregate, Repository
from event_sourcery.exceptions import ConflictingContextComponent
from event_sourcery.interfaces import StorageStrategy
from tests.contract.backends import Capability


class Noted(Event):
    text: str


class RequestInfo(ContextComponent):
    __context_name__ = "application.request"

    user: str
    seen: list[str] = []


class Trace(ContextComponent):
    __context_name__ = "tests.trace"

    span: str


class RequestEnricher:
    """Adds ``RequestInfo`` for ``user`` (``None`` = add nothing) and counts its calls."""

    component_type = RequestInfo

    def __init__(self, user: str | None = "alice") -> None:
        self.user = user
        self.calls: list[tuple[Context, WrappedEvent[Any], StreamId]] = []

    def enrich(
        self, context: Context, *, event: WrappedEvent[Any], stream_id: StreamId
    ) -> RequestInfo | None:
        self.calls.append((context, event, stream_id))
        return None if self.user is None else RequestInfo(user=self.user)


class TraceEnricher:
    """Adds a ``Trace`` that records which components the context held when it was asked."""

    component_type = Trace

    def enrich(self, context: Context, *, event: WrappedEvent[Any], stream_id: StreamId) -> Trace:
        return Trace(span=",".join(sorted(context.components)) or "-")


class CorrelationEnricher:
    component_type = EventCorrelation

    def __init__(self, correlation_id: UUID) -> None:
        self.correlation_id = correlation_id

    def enrich(
        self, context: Context, *, event: WrappedEvent[Any], stream_id: StreamId
    ) -> EventCorrelation:
        return EventCorrelation(correlation_id=self.correlation_id)


class UserContext(Context):
    user_id: str | None = None


def test_enrichers_satisfy_the_public_protocol() -> None:
    assert isinstance(RequestEnricher(), EventContextEnricher)
    assert isinstance(TraceEnricher(), EventContextEnricher)


def test_with_context_enrichers_returns_the_backend(backend: Backend) -> None:
    assert backend.with_context_enrichers(RequestEnricher()) is backend


def test_bare_events_are_enriched_in_order(backend: Backend, commit: Callable[[], None]) -> None:
    store = backend.with_context_enrichers(RequestEnricher(), TraceEnricher()).event_store
    stream_id = StreamId()

    store.append(Noted(text="a"), Noted(text="b"), stream_id=stream_id)
    commit()

    loaded = store.load_stream(stream_id)
    assert [e.context.get(RequestInfo) for e in loaded] == [RequestInfo(user="alice")] * 2
    # the second enricher saw the first one's component
    assert [e.context.get(Trace) for e in loaded] == [Trace(span="application.request")] * 2


def test_the_enricher_gets_each_event_and_its_stream(
    backend: Backend, commit: Callable[[], None]
) -> None:
    enricher = RequestEnricher()
    store = backend.with_context_enrichers(enricher).event_store
    stream_id = StreamId(name="enrich/stream")

    store.append(Noted(text="a"), Noted(text="b"), stream_id=stream_id)
    commit()

    assert [call[1].event for call in enricher.calls] == [Noted(text="a"), Noted(text="b")]
    assert [call[1].version for call in enricher.calls] == [1, 2]
    assert {call[2] for call in enricher.calls} == {stream_id}
    assert all(call[0] == Context() for call in enricher.calls)


def test_wrapped_events_are_enriched_without_being_mutated(
    backend: Backend, commit: Callable[[], None]
) -> None:
    store = backend.with_context_enrichers(RequestEnricher()).event_store
    stream_id = StreamId()
    correlation = uuid4()
    mine = WrappedEvent.wrap(Noted(text="a"), 1, Context(correlation_id=correlation))

    store.append(mine, stream_id=stream_id)
    commit()

    assert mine.context == Context(correlation_id=correlation)
    [loaded] = store.load_stream(stream_id)
    assert loaded.uuid == mine.uuid
    assert loaded.context.correlation_id == correlation
    assert loaded.context.get(RequestInfo) == RequestInfo(user="alice")


def test_a_component_the_caller_set_wins_and_its_enricher_is_not_asked(
    backend: Backend, commit: Callable[[], None]
) -> None:
    enricher = RequestEnricher(user="enricher")
    store = backend.with_context_enrichers(enricher, TraceEnricher()).event_store
    stream_id = StreamId()
    context = Context().with_component(RequestInfo(user="caller", seen=["x"]))

    store.append(WrappedEvent.wrap(Noted(text="a"), 1, context), stream_id=stream_id)
    commit()

    [loaded] = store.load_stream(stream_id)
    assert loaded.context.get(RequestInfo) == RequestInfo(user="caller", seen=["x"])
    assert loaded.context.get(Trace) == Trace(span="application.request")
    assert enricher.calls == []


def test_an_enricher_returning_none_adds_nothing(
    backend: Backend, commit: Callable[[], None]
) -> None:
    store = backend.with_context_enrichers(RequestEnricher(user=None)).event_store
    stream_id = StreamId()

    store.append(Noted(text="a"), stream_id=stream_id)
    commit()

    [loaded] = store.load_stream(stream_id)
    assert loaded.context == Context()
    assert loaded.context.get(RequestInfo) is None


def test_a_correlation_enricher_sets_the_root_ids_unless_the_caller_did(
    backend: Backend, commit: Callable[[], None]
) -> None:
    from_enricher, from_caller = uuid4(), uuid4()
    store = backend.with_context_enrichers(CorrelationEnricher(from_enricher)).event_store
    stream_id = StreamId()

    store.append(Noted(text="enriched"), stream_id=stream_id)
    store.append(
        WrappedEvent.wrap(Noted(text="set"), 2, Context(correlation_id=from_caller)),
        stream_id=stream_id,
    )
    commit()

    enriched, kept = store.load_stream(stream_id)
    assert enriched.context.correlation_id == from_enricher
    assert enriched.context.components == {}
    assert kept.context.correlation_id == from_caller


def test_calling_it_again_replaces_the_enrichers(
    backend: Backend, commit: Callable[[], None]
) -> None:
    first, second = RequestEnricher(user="first"), TraceEnricher()
    backend.with_context_enrichers(first).with_context_enrichers(second)
    stream_id = StreamId()

    backend.event_store.append(Noted(text="a"), stream_id=stream_id)
    commit()

    [loaded] = backend.event_store.load_stream(stream_id)
    assert first.calls == []
    assert loaded.context.get(RequestInfo) is None
    assert loaded.context.get(Trace) == Trace(span="-")


def test_two_enrichers_of_one_component_name_conflict(backend: Backend) -> None:
    class OtherRequest(ContextComponent):
        __context_name__ = "application.request"

    class OtherEnricher:
        component_type = OtherRequest

        def enrich(
            self, context: Context, *, event: WrappedEvent[Any], stream_id: StreamId
        ) -> None:
            return None

    with pytest.raises(ConflictingContextComponent) as raised:
        backend.with_context_enrichers(RequestEnricher(), OtherEnricher())

    assert raised.value.name == "application.request"
    assert isinstance(raised.value, ValueError)


def test_tenant_copies_keep_the_enrichers(backend: Backend, commit: Callable[[], None]) -> None:
    tenant = backend.with_context_enrichers(RequestEnricher()).in_tenant_mode("acme")
    stream_id = StreamId()

    tenant.event_store.append(Noted(text="a"), stream_id=stream_id)
    commit()

    [loaded] = tenant.event_store.load_stream(stream_id)
    assert loaded.context.get(RequestInfo) == RequestInfo(user="alice")


class Counter(Aggregate):
    category = "counters"

    def __init__(self) -> None:
        self.count = 0

    def __apply__(self, event: Event) -> None:
        self.count += 1

    def bump(self) -> None:
        self._emit(Noted(text="bump"))


def test_repository_appends_are_enriched(backend: Backend, commit: Callable[[], None]) -> None:
    backend.with_context_enrichers(RequestEnricher())
    repository = Repository[Counter](backend.event_store)
    uuid = StreamUUID()
    correlation = uuid4()

    with repository.aggregate(uuid, Counter(), Context(correlation_id=correlation)) as wrapped:
        wrapped.aggregate.bump()
        wrapped.aggregate.bump()
    commit()

    stored = backend.event_store.load_stream(StreamId(uuid=uuid, category="counters"))
    assert len(stored) == 2
    for event in stored:
        assert event.context.get(RequestInfo) == RequestInfo(user="alice")
        assert event.context.correlation_id == correlation


def test_subscriptions_deliver_the_enriched_context(
    backend: Backend, commit: Callable[[], None]
) -> None:
    store = backend.with_context_enrichers(RequestEnricher()).event_store
    start = store.position or 0
    store.append(Noted(text="a"), stream_id=StreamId())
    commit()

    batches = backend.subscriber.start_from(start).build_batch(10, timelimit=0.2)
    batch = next(batches)

    assert [r.wrapped_event.context.get(RequestInfo) for r in batch] == [RequestInfo(user="alice")]


def test_the_outbox_publishes_the_enriched_context(
    backend: Backend, commit: Callable[[], None]
) -> None:
    backend.with_outbox().with_context_enrichers(RequestEnricher())
    backend.event_store.append(Noted(text="a"), stream_id=StreamId())
    commit()
    published: list[Recorded] = []

    backend.outbox.run(published.append)
    commit()

    assert [r.wrapped_event.context.get(RequestInfo) for r in published] == [
        RequestInfo(user="alice")
    ]


@pytest.mark.requires(Capability.IN_TRANSACTION_LISTENERS)
def test_in_transaction_listeners_see_the_enriched_context(
    backend: Backend, commit: Callable[[], None]
) -> None:
    seen: list[Context] = []

    def listener(wrapped_event: WrappedEvent[Any], *_: object) -> None:
        seen.append(wrapped_event.context)

    backend.in_transaction.register(listener, to=Noted)  # type: ignore[attr-defined]
    backend.with_context_enrichers(RequestEnricher())
    backend.event_store.append(Noted(text="a"), stream_id=StreamId())
    commit()

    assert [context.get(RequestInfo) for context in seen] == [RequestInfo(user="alice")]


def test_snapshots_keep_their_components(backend: Backend, commit: Callable[[], None]) -> None:
    store = backend.event_store
    stream_id = StreamId()
    store.append(Noted(text="a"), stream_id=stream_id)
    commit()
    context = Context().with_component(Trace(span="snap"))

    store.save_snapshot(stream_id, WrappedEvent.wrap(Noted(text="all"), 1, context))
    commit()

    [snapshot] = store.load_stream(stream_id)
    assert snapshot.context.get(Trace) == Trace(span="snap")


# --------------------------------------------------------------------------- stored data


def store_raw(backend: Backend, stream_id: StreamId, context: dict[str, Any]) -> WrappedEvent[Any]:
    """Append one event whose stored context JSON is ``context``, as an older writer stored it."""
    event = WrappedEvent.wrap(Noted(text="stored earlier"), 1)
    raw = dataclasses.replace(backend[Serde].serialize(event, stream_id), context=context)
    backend[StorageStrategy].insert_events(stream_id, ExplicitVersioning(0, 1), [raw])
    return event


def test_unknown_component_payloads_load_and_round_trip_untouched(
    backend: Backend, commit: Callable[[], None]
) -> None:
    payload = {"values": {"traceparent": "00-abc-def-01"}, "n": [1, {"x": None}]}
    source = StreamId()
    store_raw(
        backend,
        source,
        {"correlation_id": None, "causation_id": None, "components": {"not.installed": payload}},
    )
    commit()

    [loaded] = backend.event_store.load_stream(source)
    assert loaded.context.components == {"not.installed": payload}
    copy = StreamId()
    backend.event_store.append(dataclasses.replace(loaded, uuid=uuid4()), stream_id=copy)
    commit()

    [again] = backend.event_store.load_stream(copy)
    assert again.context.components == {"not.installed": payload}


LEGACY = {
    "correlation_id": "0d4c9a8e-61a4-4d6c-9c49-1a1bd3e3c0aa",
    "causation_id": None,
    "user_id": "u-1",
    "nested": {"a": [1, 2], "b": None},
}


def test_contexts_stored_before_0_6_load_with_their_extra_fields(
    backend: Backend, commit: Callable[[], None]
) -> None:
    stream_id = StreamId()
    store_raw(backend, stream_id, dict(LEGACY))
    commit()

    [loaded] = backend.event_store.load_stream(stream_id)

    assert loaded.context.correlation_id == UUID(LEGACY["correlation_id"])  # type: ignore[arg-type]
    assert loaded.context.components == {}
    assert loaded.get_context(UserContext).user_id == "u-1"
    assert loaded.get_context(UserContext).correlation_id == loaded.context.correlation_id


def test_pre_0_6_extra_fields_survive_the_library_s_round_trips(
    backend: Backend, commit: Callable[[], None]
) -> None:
    """Re-appended elsewhere (with an enricher adding a component), then delivered by a
    subscription and by the outbox: the legacy fields are still there."""
    backend.with_outbox().with_context_enrichers(RequestEnricher())
    source = StreamId()
    store_raw(backend, source, dict(LEGACY))
    commit()
    [loaded] = backend.event_store.load_stream(source)
    start = backend.event_store.position or 0
    copy = StreamId()

    backend.event_store.append(dataclasses.replace(loaded, uuid=uuid4()), stream_id=copy)
    commit()

    [again] = backend.event_store.load_stream(copy)
    assert again.get_context(UserContext).user_id == "u-1"
    assert again.context.get(RequestInfo) == RequestInfo(user="alice")
    [record] = next(backend.subscriber.start_from(start).build_batch(10, timelimit=0.2))
    assert record.wrapped_event.get_context(UserContext).user_id == "u-1"
    published: list[Recorded] = []
    backend.outbox.run(published.append)
    commit()
    by_stream = {r.stream_id: r.wrapped_event for r in published}
    for stream in (source, copy):
        assert by_stream[stream].get_context(UserContext).user_id == "u-1"


def test_subscriptions_deliver_pre_0_6_contexts(
    backend: Backend, commit: Callable[[], None]
) -> None:
    start = backend.event_store.position or 0
    store_raw(backend, StreamId(), dict(LEGACY))
    commit()

    iterator = backend.subscriber.start_from(start).build_iter(timelimit=timedelta(seconds=0.2))
    record = next(iterator)

    assert record is not None
    assert record.wrapped_event.get_context(UserContext).user_id == "u-1"
