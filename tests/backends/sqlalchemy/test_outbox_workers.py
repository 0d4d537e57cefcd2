"""Several outbox relays at once, and a publisher that hangs: nothing is lost or sent twice."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy.orm import Session

from event_sourcery import StreamId
from event_sourcery.event import Recorded
from event_sourcery.exceptions import ConcurrentStreamWriteError
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from tests.backends.sqlalchemy.support import CONFIG, Posted, servers_only

WAIT = 10.0


def relay(session: Session) -> SQLAlchemyBackend:
    return SQLAlchemyBackend().configure(session, CONFIG).with_outbox()


def appended(new_session: Callable[[], Session], count: int) -> list[str]:
    session = new_session()
    backend = relay(session)
    texts = [f"event {n}" for n in range(count)]
    for text in texts:
        backend.event_store.append(Posted(text=text), stream_id=StreamId())
    session.commit()
    return texts


def text_of(record: Recorded) -> str:
    return str(record.wrapped_event.event.text)


@servers_only
def test_a_hanging_publisher_blocks_only_its_entry_and_loses_nothing(
    new_session: Callable[[], Session],
) -> None:
    texts = appended(new_session, 3)
    hanging, release = threading.Event(), threading.Event()
    stuck_session = new_session()

    def stuck_publisher(record: Recorded) -> None:
        hanging.set()
        release.wait(WAIT)
        raise TimeoutError("the broker never answered")

    def run_stuck() -> None:
        try:
            relay(stuck_session).outbox.run(stuck_publisher, limit=1)
        finally:
            stuck_session.rollback()  # the stuck worker dies: its claim is released

    worker = threading.Thread(target=run_stuck)
    worker.start()
    assert hanging.wait(WAIT)

    other_session = new_session()
    published: list[str] = []
    relay(other_session).outbox.run(lambda r: published.append(text_of(r)))
    other_session.commit()
    assert published == texts[1:]  # the claimed entry was skipped, not waited for

    release.set()
    worker.join(WAIT)
    assert not worker.is_alive()

    relay(other_session).outbox.run(lambda r: published.append(text_of(r)))
    other_session.commit()
    assert sorted(published) == sorted(texts)  # the hung entry is published once, later


@servers_only
def test_concurrent_relays_publish_every_entry_exactly_once(
    new_session: Callable[[], Session],
) -> None:
    texts = appended(new_session, 60)
    published: list[str] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    deadlocks: list[str] = []

    def work() -> None:
        session = new_session()
        backend = relay(session)

        def publish(record: Recorded) -> None:
            with lock:
                published.append(text_of(record))

        try:
            for _ in range(10):
                try:
                    backend.outbox.run(publish, limit=7)
                    session.commit()
                except ConcurrentStreamWriteError:
                    # InnoDB may pick a deadlock victim among relays (next-key locks under
                    # REPEATABLE READ): the victim's work is rolled back and redone later
                    session.rollback()
                    deadlocks.append(session.get_bind().dialect.name)
        except BaseException as error:  # reported below
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(WAIT * 3)

    assert errors == []
    assert set(published) == set(texts)  # at least once
    if not deadlocks:  # without a rolled-back relay, exactly once
        assert sorted(published) == sorted(texts)
    assert all(name in ("mysql", "mariadb") for name in deadlocks)
