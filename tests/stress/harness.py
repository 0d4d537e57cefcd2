"""Exact-subscription stress harness (DESIGN §3.1), shared by the test suite and ``bench/``.

Writer *processes* (``spawn``) each create a few streams, wait for one another at a barrier,
then run transactions appending 1-``max_events`` events to one or two of their streams (sometimes
a new one) or, a share ``delete_ratio`` of them, deleting one of their earlier streams, keep each
transaction open a random time before the commit, and roll back a share.
An optional extra writer keeps its first transaction open longer than the subscribers' time
limit; the others start only once it has written, so they commit while it is open. Two
subscriber threads in this process (``build_batch`` and ``build_iter``, each with its own
``Session``) read the global order from position 0 while the writers run, until every committed
event arrived and a whole time limit then passed with nothing more.

The ``StressReport`` holds what each writer committed and rolled back (event uuids, wall-clock
times) and what each subscriber delivered, in delivery order; ``verdicts`` checks it. Every wait
is bounded: the run by ``Scenario.max_seconds``, the subscribers' catch-up after the last writer
by ``Scenario.catch_up_seconds``; stuck writer processes are killed.
"""

from __future__ import annotations

import multiprocessing
import queue
import random
import statistics
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session

from event_sourcery import Event, StreamId
from event_sourcery.event import Recorded, WrappedEvent
from event_sourcery_sqlalchemy import SQLAlchemyBackend, SQLAlchemyConfig, configure_models
from event_sourcery_sqlalchemy.models import DefaultEvent
from tests.contract.databases import MARIADB_URL, POSTGRES_URL
from tests.run_databases import derived
from tests.stress.deletes import DeletePolicy, DeliveryFeed

STRESS_DATABASE = derived(POSTGRES_URL, "stress")
"""The database the stress runs own on the servers (the contract suite owns the URL's one)."""

COMMITTED = "committed"
ROLLED_BACK = "rolled back"
FAILED = "failed"
"""An append raised: the transaction was rolled back (its events must not be delivered)."""
UNCERTAIN = "uncertain"
"""The commit raised: whether it happened is unknown (a run with one is not a proof)."""

POLL = timedelta(milliseconds=50)
"""``gap_retry_interval``: how often a subscriber polls when no wake-up reaches it."""


class _Base(DeclarativeBase):
    """Maps the default models in processes where nothing else did (spawned writers)."""


configure_models(_Base)


class StressTicked(Event):
    """One stress event: which writer, transaction and place in it."""

    __event_name__ = "stress.ticked"

    writer: int
    transaction: int
    index: int


def metadata() -> MetaData:
    """The default models' tables (mapped on whichever base ``configure_models`` got first)."""
    return DefaultEvent.__table__.metadata  # type: ignore[attr-defined,no-any-return]


# --- databases --------------------------------------------------------------------------------


def database_url(
    kind: str, sqlite_path: Path | None = None, database: str = STRESS_DATABASE
) -> str:
    """The URL of a stress database of ``kind`` (``sqlite``, ``postgres`` or ``mariadb``)."""
    if kind == "sqlite":
        if sqlite_path is None:
            raise ValueError("SQLite needs a file path")
        return f"sqlite:///{sqlite_path}"
    server = {"postgres": POSTGRES_URL, "mariadb": MARIADB_URL}[kind]
    return make_url(server).set(database=database).render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def is_mysql(url: str) -> bool:
    """MariaDB or MySQL."""
    return make_url(url).get_backend_name() in ("mysql", "mariadb")


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL (readers never block) and a busy timeout."""
    if not is_sqlite(url):
        return create_engine(url)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _wal(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    return engine


def prepare_database(url: str) -> str | None:
    """(Re)create the stress database with empty tables; the reason when its server is absent."""
    parsed = make_url(url)
    if not is_sqlite(url):
        postgres = parsed.get_backend_name() == "postgresql"
        admin = create_engine(
            parsed.set(database="postgres" if postgres else "mysql"), isolation_level="AUTOCOMMIT"
        )
        name = parsed.database
        try:
            with admin.connect() as connection:
                if postgres:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
                else:
                    connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
                    connection.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        except Exception as error:
            safe = parsed.render_as_string(hide_password=True)
            return f"{safe} unavailable: {type(error).__name__}: {error}"
        finally:
            admin.dispose()
    engine = make_engine(url)
    try:
        metadata().create_all(engine)
    finally:
        engine.dispose()
    return None


def backend_on(session: Session) -> SQLAlchemyBackend:
    return SQLAlchemyBackend().configure(session, SQLAlchemyConfig(gap_retry_interval=POLL))


# --- writers (child processes) ----------------------------------------------------------------


@dataclass(frozen=True)
class WriterPlan:
    url: str
    index: int
    seed: int
    transactions: int
    max_events: int
    hold_max: float
    rollback_ratio: float
    streams: int = 4
    """Streams created (one event each, committed) before the writers start together."""
    new_stream_ratio: float = 0.1
    """Share of transactions that also create a stream."""
    long_hold: float = 0.0
    """When > 0, the first transaction after the start stays open this long (and commits)."""
    wait_for_long: bool = False
    """Start only once the long transaction has written its events."""
    delete_ratio: float = 0.0
    """Share of transactions that delete one of the writer's committed streams instead."""


@dataclass(frozen=True)
class TxRecord:
    """One writer transaction: its event uuids and outcome, with wall-clock times."""

    writer: int
    number: int
    """0 is the transaction creating the writer's first streams."""
    uuids: tuple[str, ...]
    outcome: str
    began: float
    """Before the first append."""
    ended: float
    """After the commit or rollback returned."""
    long: bool = False
    error: str = ""
    streams: tuple[str, ...] = ()
    """The stream (uuid hex) of each event, in the order of ``uuids``."""
    deleted: str = ""
    """The stream (uuid hex) the transaction deleted, for a delete transaction."""


def deleted_streams(transactions: Iterable[TxRecord]) -> dict[str, TxRecord]:
    """The committed delete transactions by the stream they deleted."""
    return {t.deleted: t for t in transactions if t.deleted and t.outcome == COMMITTED}


def deleted_events(transactions: list[TxRecord]) -> dict[str, TxRecord]:
    """Each committed event of a stream deleted later, with the delete that removed it.

    (Transactions without ``streams`` wrote to streams nobody deletes.)
    """
    deletes = deleted_streams(transactions)
    return {
        uuid: deletes[stream]
        for t in transactions
        if t.outcome == COMMITTED and t.streams
        for uuid, stream in zip(t.uuids, t.streams, strict=True)
        if stream in deletes
    }


def surviving(transactions: list[TxRecord]) -> frozenset[str]:
    """The committed events of streams never deleted: what a subscription must deliver."""
    gone = deleted_events(transactions)
    return frozenset(u for t in transactions if t.outcome == COMMITTED for u in t.uuids) - set(gone)


START_WAIT = 30.0
"""How long writers wait for each other (and for the long transaction) before giving up."""


def writer_main(
    plan: WriterPlan, results: Any, ready: Any, long_open: Any, delivered: Any = None
) -> None:
    """Entry point of a writer process: puts ``(index, records, error)`` on ``results``.

    Each writer creates its streams, waits at the ``ready`` barrier for the others, then (all
    but the long writer) for ``long_open``, and runs its transactions.
    """
    records: list[TxRecord] = []  # kept when the writer fails: they say what was committed
    error = ""
    try:
        _write(plan, ready, long_open, records, delivered)
    except BaseException:
        error = traceback.format_exc()
        ready.abort()  # never leave the other writers waiting
    finally:
        long_open.set()
    results.put((plan.index, records, error))


def _write(
    plan: WriterPlan, ready: Any, long_open: Any, records: list[TxRecord], delivered: Any
) -> None:
    deletes = DeletePolicy(plan.delete_ratio, plan.seed + 1)
    if delivered is not None:
        deletes.delivered = DeliveryFeed(delivered)
    writer = _Writer(plan, records, deletes)
    try:
        writer.create_streams()
        ready.wait(START_WAIT)
        if plan.wait_for_long and not long_open.wait(START_WAIT):
            raise RuntimeError("the long transaction did not start")
        for number in range(1, plan.transactions + 1):
            writer.transaction(number, long_open if plan.long_hold and number == 1 else None)
    finally:
        writer.close()


CREATE_ATTEMPTS = 5


class _Writer:
    """One writer's session, streams (with their versions) and transaction records."""

    def __init__(self, plan: WriterPlan, records: list[TxRecord], deletes: DeletePolicy) -> None:
        self.plan = plan
        self.rng = random.Random(plan.seed)
        self.engine = make_engine(plan.url)
        self.session = Session(self.engine)
        self.store = backend_on(self.session).event_store
        self.streams: list[StreamId] = []
        self.versions: dict[StreamId, int] = {}
        self.records = records
        self.deletes = deletes

    def close(self) -> None:
        self.session.close()
        self.engine.dispose()

    def create_streams(self) -> None:
        """Create the writer's first streams (retried: the database may pick a deadlock victim)."""
        for _ in range(CREATE_ATTEMPTS):
            fresh = [StreamId() for _ in range(self.plan.streams)]
            if self._run(0, [(s, 1) for s in fresh], hold=0.0, rollback=False) == COMMITTED:
                return
        raise RuntimeError(f"could not create streams: {self.records[-1].error}")

    def transaction(self, number: int, long_open: Any | None) -> None:
        """Append 1-``max_events`` events to one or two streams (or delete one, as the
        ``DeletePolicy`` says), wait, commit or roll back.

        ``long_open`` (an event to set once the events are written) makes it the long one.
        """
        rng, plan = self.rng, self.plan
        chosen = (
            None if long_open else self.deletes.victim(self.streams, number == plan.transactions)
        )
        if chosen is not None:
            victim, read = chosen
            rollback = number < plan.transactions and rng.random() < plan.rollback_ratio
            hold = rng.uniform(0, plan.hold_max)
            if self._run(number, [], hold, rollback, delete=victim) == COMMITTED:
                self.deletes.deleted(victim, read)
            return
        streams = self.deletes.active(self.streams)
        count = rng.randint(1, plan.max_events)
        first = StreamId() if rng.random() < plan.new_stream_ratio else rng.choice(streams)
        split = rng.randint(1, count - 1) if count > 1 and rng.random() < 0.5 else count
        plan_of = [(first, split)]
        others = [s for s in streams if s != first]
        if split < count and others:
            plan_of.append((rng.choice(others), count - split))
        else:
            plan_of = [(first, count)]
        long = long_open is not None
        hold = plan.long_hold if long else rng.uniform(0, plan.hold_max)
        rollback = not long and rng.random() < plan.rollback_ratio
        self._run(number, plan_of, hold, rollback, long_open)

    def _run(
        self,
        number: int,
        appends: list[tuple[StreamId, int]],
        hold: float,
        rollback: bool,
        long_open: Any | None = None,
        delete: StreamId | None = None,
    ) -> str:
        """Run one transaction (appends, or deleting ``delete``); returns (and records) its
        outcome."""
        uuids: list[str] = []
        streams: list[str] = []
        moved: dict[StreamId, int] = {}
        began = time.time()

        def record(outcome: str, error: str = "") -> str:
            long = long_open is not None
            ended = time.time()
            deleted = delete.hex if delete is not None else ""
            self.records.append(
                TxRecord(
                    self.plan.index,
                    number,
                    tuple(uuids),
                    outcome,
                    began,
                    ended,
                    long,
                    error,
                    tuple(streams),
                    deleted,
                )
            )
            return outcome

        try:
            if delete is not None:
                self.store.delete_stream(delete)
            for stream, count in appends:
                version = self.versions.get(stream, 0)
                wrapped = [
                    WrappedEvent.wrap(
                        StressTicked(writer=self.plan.index, transaction=number, index=len(uuids)),
                        version=version + n,
                    )
                    for n in range(1, count + 1)
                ]
                uuids.extend(str(w.uuid) for w in wrapped)
                streams.extend(stream.hex for _ in wrapped)
                self.store.append(*wrapped, stream_id=stream, expected_version=version)
                moved[stream] = version + count
            if long_open is not None:
                long_open.set()  # the other writers start now and commit while this one waits
            time.sleep(hold)  # the caller's slow work between append and commit
        except Exception as error:
            self.session.rollback()
            return record(FAILED, repr(error))
        if rollback:
            self.session.rollback()
            return record(ROLLED_BACK)
        try:
            self.session.commit()
        except Exception as error:
            self.session.rollback()
            return record(UNCERTAIN, repr(error))
        self.versions.update(moved)
        self.streams.extend([s for s in moved if s not in self.streams])
        offset = 0
        for stream, count in appends:
            self.deletes.committed(stream, uuids[offset : offset + count])
            offset += count
        if delete is not None:
            self.streams.remove(delete)
            self.versions.pop(delete, None)
        return record(COMMITTED)


# --- subscribers (threads of this process) ----------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    uuid: str
    position: int
    at: float
    """Wall clock when the subscriber got it."""
    asked: float = 0.0
    """Wall clock when the subscriber asked for the batch that brought it: a ``build_batch``
    subscription reads it after that (``build_iter`` hands out records it read ahead)."""


def close(subscription: Iterator[Any]) -> None:
    """Close a subscription's iterator (its generator gives back connections and LISTEN)."""
    closing = getattr(subscription, "close", None)
    if closing is not None:
        closing()


def _uuids_of(batch: Iterable[Recorded]) -> list[tuple[str, int]]:
    return [(str(r.wrapped_event.uuid), r.position) for r in batch]


class Subscriber(threading.Thread):
    """Reads from position 0 with its own session until told what to expect and caught up."""

    def __init__(
        self, name: str, url: str, mode: str, batch_size: int, timelimit: float, give_up: float
    ) -> None:
        super().__init__(name=f"stress-{name}", daemon=True)
        self.label = name
        self.url = url
        self.mode = mode
        self.batch_size = batch_size
        self.timelimit = timelimit
        self.give_up = give_up
        """``time.monotonic()`` after which the subscriber stops whatever it has."""
        self.deliveries: list[Delivery] = []
        self.error = ""
        self.timed_out = False
        self.caught_up_at: float | None = None
        self._expected: frozenset[str] | None = None
        self.writer: SessionWriter | None = None
        """Set by subscribers whose own session also appends (``WritingSubscriber``)."""
        self.feeds: list[Any] = []
        """Queues that get the uuids of each delivered batch (``DeliveryFeed`` of writers)."""

    def stop_writing(self, timeout: float) -> list[TxRecord]:
        """The transactions of the subscriber's own session, once it closed the last one."""
        return []

    def expect(self, committed: frozenset[str], catch_up: float) -> None:
        """Stop once all of ``committed`` arrived and then a time limit passed with nothing.

        Give up if that takes over ``catch_up`` seconds (the writers are done: an exact
        subscription has nothing left to wait for).
        """
        self.give_up = min(self.give_up, time.monotonic() + catch_up)
        self._expected = committed

    def run(self) -> None:
        engine = make_engine(self.url)
        try:
            with Session(engine) as session:
                backend = backend_on(session)
                self.prepare(backend, session)
                start = backend.subscriber.start_from(0)
                if self.mode == "iter":
                    records = start.build_iter(self.timelimit)
                    try:
                        self._consume([r] if r is not None else [] for r in records)
                    finally:
                        close(records)
                else:
                    batches = start.build_batch(self.batch_size, self.timelimit)
                    try:
                        self._consume(batches)
                    finally:
                        close(batches)
        except BaseException:
            self.error = traceback.format_exc()
        finally:
            engine.dispose()

    def prepare(self, backend: SQLAlchemyBackend, session: Session) -> None:
        """Called in the thread before subscribing, with the subscription's backend."""

    def _consume(self, batches: Iterator[list[Recorded]]) -> None:
        missing: set[str] | None = None
        asked = time.time()
        for batch in batches:
            now = time.time()
            for uuid, position in _uuids_of(batch):
                self.deliveries.append(Delivery(uuid, position, now, asked))
                if missing is not None:
                    missing.discard(uuid)
            if self.writer is not None:
                self.writer.step(str(r.wrapped_event.uuid) for r in batch)
            if batch and self.feeds:
                uuids = [str(r.wrapped_event.uuid) for r in batch]
                for feed in self.feeds:
                    feed.put(uuids)
            expected = self._expected
            if missing is None and expected is not None:
                missing = set(expected) - {d.uuid for d in self.deliveries}
            if missing is not None and not missing:
                if self.caught_up_at is None:
                    self.caught_up_at = now
                if not batch:
                    return
            if time.monotonic() > self.give_up:
                self.timed_out = True
                return
            asked = time.time()


SUBSCRIBER_WRITER = -1
"""The writer index of the transactions of a subscriber's own session."""


@dataclass
class SessionWriter:
    """The appends of a subscriber's own session, between its reads (ADR 0006: a subscription
    reads its own writes).

    Driven by the subscriber's thread after each batch: opens a transaction appending 1-3 events
    to a new stream, maybe appends again, and a later step commits it or (about a fifth) rolls
    it back. The subscription delivers the own events before the commit; the committed ones
    must come exactly once, the rolled-back ones may have been delivered before the rollback.
    """

    append: Any
    """``append(events)``: appends to a new stream in the open transaction (opening it)."""
    commit: Any
    rollback: Any
    seed: int
    transactions: int = 8
    rollback_ratio: float = 0.25
    records: list[TxRecord] = field(default_factory=list)
    _uuids: list[str] = field(default_factory=list)
    _began: float = 0.0
    _steps: int = 0
    _seen: set[str] = field(default_factory=set)
    stopping: threading.Event = field(default_factory=threading.Event)
    """Set from outside: close the open transaction at the next step (committing it)."""
    done: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def step(self, delivered: Iterable[str]) -> None:
        """One step after a batch (``delivered``: its event uuids)."""
        if self.done.is_set():
            return
        rng = self.rng
        self._seen.update(delivered)
        if self.stopping.is_set():
            if self._uuids:
                self._end(rollback=False)
            self.done.set()
        elif self._uuids:
            self._steps += 1
            # read the own events first (bounded: PostgreSQL delivers them once every older
            # transaction has finished, the long one included)
            if self._seen.issuperset(self._uuids) or self._steps > 8:
                if rng.random() < 0.3:
                    self._append(rng)  # a second append in the same transaction
                else:
                    self._end(rollback=rng.random() < self.rollback_ratio)
        elif len(self.records) < self.transactions and rng.random() < 0.3:
            self._began, self._steps = time.time(), 0
            self._append(rng)

    def _append(self, rng: random.Random) -> None:
        number = len(self.records) + 1
        events = [
            WrappedEvent.wrap(
                StressTicked(writer=SUBSCRIBER_WRITER, transaction=number, index=n),
                version=n + 1,
            )
            for n in range(rng.randint(1, 3))
        ]
        self.append(events)
        self._uuids.extend(str(e.uuid) for e in events)

    def _end(self, rollback: bool) -> None:
        (self.rollback if rollback else self.commit)()
        outcome = ROLLED_BACK if rollback else COMMITTED
        number = len(self.records) + 1
        self.records.append(
            TxRecord(
                SUBSCRIBER_WRITER, number, tuple(self._uuids), outcome, self._began, time.time()
            )
        )
        self._uuids = []


class WritingSubscriber(Subscriber):
    """A ``build_batch`` subscriber whose own session also appends (``SessionWriter``)."""

    def __init__(self, url: str, batch_size: int, timelimit: float, give_up: float) -> None:
        super().__init__("writing", url, "batch", batch_size, timelimit, give_up)
        self.stopping = threading.Event()
        self.finished_writing = threading.Event()
        """Set once the writer closed its last transaction, or the thread ended."""

    def run(self) -> None:
        try:
            super().run()
        finally:
            self.finished_writing.set()

    def prepare(self, backend: SQLAlchemyBackend, session: Session) -> None:
        store = backend.event_store

        def append(events: list[WrappedEvent[Any]]) -> None:
            store.append(*events, stream_id=StreamId())

        self.writer = SessionWriter(
            append,
            session.commit,
            session.rollback,
            seed=7,
            stopping=self.stopping,
            done=self.finished_writing,
        )

    def stop_writing(self, timeout: float) -> list[TxRecord]:
        return stop_writer(self, self.stopping, self.finished_writing, timeout)


def stop_writer(
    subscriber: Subscriber, stopping: threading.Event, finished: threading.Event, timeout: float
) -> list[TxRecord]:
    """Tell ``subscriber``'s writer to close its transaction; its transactions once it did."""
    stopping.set()
    if not finished.wait(timeout):
        raise TimeoutError("the writing subscriber did not close its transaction")
    writer = subscriber.writer
    return list(writer.records) if writer is not None else []


def assert_writing_subscriber_read_its_own_writes(report: StressReport) -> None:
    """The writing subscriber's session committed and rolled back, got some own events before
    their commit, and every own committed event once."""
    own = [t for t in report.transactions if t.writer == SUBSCRIBER_WRITER]
    assert {COMMITTED, ROLLED_BACK} <= {t.outcome for t in own}, own
    delivered = Counter(d.uuid for d in report.subscribers["writing"])
    first = {d.uuid: d.at for d in reversed(report.subscribers["writing"])}
    committed = [(u, t.ended) for t in own if t.outcome == COMMITTED for u in t.uuids]
    assert any(first.get(u, ended) < ended for u, ended in committed), "none before its commit"
    assert all(delivered[u] == 1 for u, _ in committed)


# --- the run ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    writers: int = 3
    transactions: int = 40
    max_events: int = 3
    hold_max: float = 0.05
    rollback_ratio: float = 0.2
    streams: int = 4
    """Streams each writer creates before they all start (more come from ``new_stream_ratio``)."""
    new_stream_ratio: float = 0.1
    long_hold: float = 0.0
    """When > 0, one more writer keeps its first transaction open this long (the others start
    once it has written and commit meanwhile)."""
    delete_ratio: float = 0.0
    """Share of writer transactions deleting one of the writer's earlier streams."""
    timelimit: float = 0.5
    batch_size: int = 10
    seed: int = 1
    max_seconds: float = 45.0
    """Bound of the whole run."""
    catch_up_seconds: float = 15.0
    """Bound of the subscribers' catch-up once every writer is done."""


@dataclass
class StressReport:
    url: str
    scenario: Scenario
    transactions: list[TxRecord]
    subscribers: dict[str, list[Delivery]]
    caught_up_at: dict[str, float | None]
    started: float
    writers_done: float
    finished: float
    errors: list[str] = field(default_factory=list)

    def events(self, outcome: str) -> list[str]:
        return [u for t in self.transactions if t.outcome == outcome for u in t.uuids]

    @property
    def committed(self) -> frozenset[str]:
        return frozenset(self.events(COMMITTED))

    @property
    def surviving(self) -> frozenset[str]:
        """Committed events of streams never deleted: every subscriber delivers each once."""
        return surviving(self.transactions)

    @property
    def deleted(self) -> dict[str, TxRecord]:
        """Committed events of deleted streams, with the delete: delivered at most once, and
        only before the delete committed."""
        return deleted_events(self.transactions)

    @property
    def deletes(self) -> list[TxRecord]:
        """The delete transactions (any outcome)."""
        return [t for t in self.transactions if t.deleted]

    @property
    def not_committed(self) -> frozenset[str]:
        """Events of transactions that rolled back (on purpose or because an append failed)."""
        return frozenset(self.events(ROLLED_BACK) + self.events(FAILED))

    @property
    def long_transaction(self) -> TxRecord | None:
        return next((t for t in self.transactions if t.long), None)

    def commit_times(self) -> dict[str, float]:
        return {u: t.ended for t in self.transactions if t.outcome == COMMITTED for u in t.uuids}

    def lags(self, subscriber: str, committed_after: float = 0.0) -> list[float]:
        """Seconds from each commit returning to the subscriber getting the event (≥ 0).

        Only events committed after ``committed_after`` (wall clock) count.
        """
        ended = self.commit_times()
        return [
            max(0.0, d.at - ended[d.uuid])
            for d in self.subscribers[subscriber]
            if ended.get(d.uuid, -1.0) > committed_after
        ]

    def verdicts(self) -> list[Verdict]:
        """Per subscriber; the writing subscriber may have got its own session's events before
        they rolled back (those are left out; other writers' rolled-back events still count)."""
        own = frozenset(
            u
            for t in self.transactions
            if t.writer == SUBSCRIBER_WRITER and t.outcome != COMMITTED
            for u in t.uuids
        )
        deleted = {u: t.ended for u, t in self.deleted.items()}
        return [
            Verdict.of(
                name,
                [d for d in deliveries if name != "writing" or d.uuid not in own],
                self.surviving,
                self.not_committed,
                deleted,
                read_ahead=name == "iter",
            )
            for name, deliveries in self.subscribers.items()
        ]

    def summary(self) -> str:
        outcomes = Counter(t.outcome for t in self.transactions)
        events = {outcome: len(self.events(outcome)) for outcome in outcomes}
        delivered = {name: len(d) for name, d in self.subscribers.items()}
        return (
            f"{make_url(self.url).get_backend_name()}: {len(self.transactions)} transactions "
            f"{dict(outcomes)}, events {events}, delivered {delivered}, "
            f"writers {self.writers_done - self.started:.2f} s, "
            f"total {self.finished - self.started:.2f} s"
        )


@dataclass(frozen=True)
class Verdict:
    """What one subscriber got wrong (every list empty means exact)."""

    subscriber: str
    delivered: int
    duplicates: list[str]
    missing: list[str]
    rolled_back: list[str]
    unknown: list[str]
    repeated_positions: list[int]
    deleted_delivered: int = 0
    """Events of streams deleted later that the subscriber got (before the delete)."""
    read_after_delete: list[str] = field(default_factory=list)
    """Events of deleted streams read after their delete had committed."""

    @classmethod
    def of(
        cls,
        name: str,
        deliveries: list[Delivery],
        committed: frozenset[str],
        not_committed: frozenset[str],
        deleted: dict[str, float] | None = None,
        read_ahead: bool = False,
    ) -> Verdict:
        """``committed``: the events to deliver exactly once; ``deleted``: events that may come
        at most once, with when their delete had committed (wall clock). A subscriber that reads
        ahead (``build_iter``) is not held to the read time (its asking time is no bound)."""
        deleted = deleted or {}
        counts = Counter(d.uuid for d in deliveries)
        positions = Counter(d.position for d in deliveries)
        return cls(
            subscriber=name,
            delivered=len(deliveries),
            duplicates=sorted(u for u, n in counts.items() if n > 1),
            missing=sorted(committed - counts.keys()),
            rolled_back=sorted(not_committed & counts.keys()),
            unknown=sorted(counts.keys() - committed - not_committed - deleted.keys()),
            repeated_positions=sorted(p for p, n in positions.items() if n > 1),
            deleted_delivered=len(counts.keys() & deleted.keys()),
            read_after_delete=sorted(
                d.uuid
                for d in deliveries
                if d.uuid in deleted and not read_ahead and d.asked > deleted[d.uuid]
            ),
        )

    @property
    def exact(self) -> bool:
        return not (
            self.duplicates
            or self.missing
            or self.rolled_back
            or self.unknown
            or self.repeated_positions
            or self.read_after_delete
        )

    def __str__(self) -> str:
        return (
            f"{self.subscriber}: delivered={self.delivered} duplicates={len(self.duplicates)} "
            f"missing={len(self.missing)} rolled_back_delivered={len(self.rolled_back)} "
            f"unknown={len(self.unknown)} repeated_positions={len(self.repeated_positions)} "
            f"deleted_delivered={self.deleted_delivered} "
            f"read_after_delete={len(self.read_after_delete)}"
            + ("" if self.exact else f" e.g. missing {self.missing[:3]} dup {self.duplicates[:3]}")
        )


def run_stress(url: str, scenario: Scenario) -> StressReport:
    """Run ``scenario`` against the prepared database at ``url``."""
    context = multiprocessing.get_context("spawn")
    results: Any = context.Queue()
    long_open: Any = context.Event()
    writers = scenario.writers + (1 if scenario.long_hold > 0 else 0)
    ready: Any = context.Barrier(writers)
    started = time.time()
    give_up = time.monotonic() + scenario.max_seconds
    plans = [
        WriterPlan(
            url=url,
            index=index,
            seed=scenario.seed * 1_000 + index,
            transactions=scenario.transactions,
            max_events=scenario.max_events,
            hold_max=scenario.hold_max,
            rollback_ratio=scenario.rollback_ratio,
            streams=scenario.streams,
            new_stream_ratio=scenario.new_stream_ratio,
            wait_for_long=scenario.long_hold > 0,
            delete_ratio=scenario.delete_ratio,
        )
        for index in range(scenario.writers)
    ]
    if scenario.long_hold > 0:
        plans.append(
            WriterPlan(
                url=url,
                index=scenario.writers,
                seed=scenario.seed * 1_000 + scenario.writers,
                transactions=max(1, scenario.transactions // 4),
                max_events=scenario.max_events,
                hold_max=scenario.hold_max,
                rollback_ratio=scenario.rollback_ratio,
                streams=scenario.streams,
                new_stream_ratio=scenario.new_stream_ratio,
                long_hold=scenario.long_hold,  # deletes nothing: its events stay to check
            )
        )
    subscribers = [
        Subscriber("batch", url, "batch", scenario.batch_size, scenario.timelimit, give_up),
        Subscriber("iter", url, "iter", 1, scenario.timelimit, give_up),
        WritingSubscriber(url, scenario.batch_size, scenario.timelimit, give_up),
    ]
    feeds = [context.Queue() if scenario.delete_ratio else None for _ in plans]
    subscribers[0].feeds = [feed for feed in feeds if feed is not None]
    for subscriber in subscribers:
        subscriber.start()
    processes = [
        context.Process(
            target=writer_main, args=(plan, results, ready, long_open, feed), daemon=True
        )
        for plan, feed in zip(plans, feeds, strict=True)
    ]
    for process in processes:
        process.start()
    transactions, errors, writers_done = settle(
        processes, results, subscribers, give_up, scenario.catch_up_seconds, scenario.timelimit
    )
    return StressReport(
        url=url,
        scenario=scenario,
        transactions=transactions,
        subscribers={s.label: list(s.deliveries) for s in subscribers},
        caught_up_at={s.label: s.caught_up_at for s in subscribers},
        started=started,
        writers_done=writers_done,
        finished=time.time(),
        errors=errors,
    )


def settle(
    processes: list[Any],
    results: Any,
    subscribers: list[Any],
    give_up: float,
    catch_up_seconds: float,
    timelimit: float,
) -> tuple[list[TxRecord], list[str], float]:
    """Collect the writers' records, let the subscribers catch up and stop them.

    Returns the transactions, the errors seen and when the writers were done.
    """
    records, errors = _collect(processes, results, give_up)
    transactions = [r for index in sorted(records) for r in records[index]]
    for subscriber in subscribers:
        try:
            transactions.extend(subscriber.stop_writing(max(1.0, give_up - time.monotonic())))
        except TimeoutError as error:
            errors.append(f"subscriber {subscriber.label}: {error}")
    writers_done = time.time()
    for subscriber in subscribers:
        subscriber.expect(surviving(transactions), catch_up_seconds)
    for subscriber in subscribers:
        subscriber.join(max(0.0, give_up - time.monotonic()) + timelimit + 5)
        if subscriber.is_alive():
            errors.append(f"subscriber {subscriber.label} did not stop")
        if subscriber.error:
            errors.append(f"subscriber {subscriber.label} failed:\n{subscriber.error}")
        if subscriber.timed_out:
            errors.append(f"subscriber {subscriber.label} gave up waiting for committed events")
    errors.extend(
        f"writer {t.writer} transaction {t.number} {t.outcome}: {t.error}"
        for t in transactions
        if t.outcome == UNCERTAIN
    )
    return transactions, errors, writers_done


def _collect(
    processes: list[Any], results: Any, give_up: float
) -> tuple[dict[int, list[TxRecord]], list[str]]:
    """Every writer's records (bounded by ``give_up``; stuck writers are killed)."""
    records: dict[int, list[TxRecord]] = {}
    errors: list[str] = []
    while len(records) < len(processes):
        remaining = give_up - time.monotonic()
        if remaining <= 0:
            errors.append(f"writers {sorted(set(range(len(processes))) - set(records))} timed out")
            break
        try:
            index, written, error = results.get(timeout=min(remaining, 1.0))
        except queue.Empty:
            for index, process in enumerate(processes):
                if index not in records and process.exitcode not in (None, 0):
                    records[index] = []
                    errors.append(f"writer {index} exited with code {process.exitcode}")
            continue
        records[index] = written
        if error:
            errors.append(f"writer {index} failed:\n{error}")
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)
    return records, errors


# --- reading back -----------------------------------------------------------------------------


def read_after(
    url: str, position: int, timelimit: float = 0.3, give_up: float = 30.0
) -> list[Delivery]:
    """Everything a new subscription from ``position`` delivers until it is caught up."""
    engine = make_engine(url)
    deadline = time.monotonic() + give_up
    delivered: list[Delivery] = []
    try:
        with Session(engine) as session:
            batches = (
                backend_on(session).subscriber.start_from(position).build_batch(500, timelimit)
            )
            try:
                for batch in batches:
                    now = time.time()
                    delivered.extend(Delivery(u, p, now) for u, p in _uuids_of(batch))
                    if not batch:
                        return delivered
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"reading after {position} took over {give_up} s")
            finally:
                close(batches)
    finally:
        engine.dispose()
    return delivered  # pragma: no cover - the iterator is infinite


def current_position(url: str) -> int:
    """``event_store.position`` on a new session."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return backend_on(session).event_store.position or 0
    finally:
        engine.dispose()


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1 or share >= 1:
        return max(values)
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]
