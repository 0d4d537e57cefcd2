"""``USE_TZ = True`` (Django's default since 5.0): timestamps stay naive UTC for the library."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from django.test.utils import override_settings

from event_sourcery import Event, StreamId
from event_sourcery.event import WrappedEvent
from event_sourcery_django import DjangoBackend, DjangoConfig
from tests.backends.django import support


class Stamped(Event):
    note: str


@pytest.fixture
def backend() -> Iterator[DjangoBackend]:
    support.migrate_once("default")
    with override_settings(USE_TZ=True):
        yield DjangoBackend().configure(DjangoConfig(using="default")).with_outbox()
    support.empty_tables("default")


def test_naive_utc_timestamps_round_trip_without_warnings_when_use_tz_is_on(
    backend: DjangoBackend,
) -> None:
    event = WrappedEvent.wrap(Stamped(note="x"), version=1)
    stream_id = StreamId()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django warns about naive datetimes under USE_TZ
        backend.event_store.append(event, stream_id=stream_id)
        snapshot = WrappedEvent.wrap(Stamped(note="s"), 1)
        backend.event_store.save_snapshot(stream_id, snapshot)
        loaded = backend.event_store.load_stream(stream_id, start=1)
        published: list[WrappedEvent[Stamped]] = []
        backend.outbox.run(lambda record: published.append(record.wrapped_event))
        delivered = next(backend.subscriber.start_from(0).build_iter(0.1))

    assert loaded == [snapshot]  # uuid, naive created_at, version and context intact
    assert published[0].created_at == event.created_at
    assert delivered is not None
    assert delivered.wrapped_event.created_at == event.created_at
