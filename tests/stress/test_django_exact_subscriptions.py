"""Exact subscriptions of the Django backend under concurrent writer processes (ADR 0006).

The Django counterpart of ``test_exact_subscriptions.py``, bounded: per database (a SQLite file,
once with ``transaction_mode="IMMEDIATE"`` (Django 5.1+) and once without, where the backend takes
the write lock itself as on Django 4.2; PostgreSQL's ``es_django_stress`` database — each behind a
database alias of its own, ``stress``, so other tests' rows never mix in), three writer processes
appending through ``DjangoBackend`` do 30 transactions each inside ``transaction.atomic``: 1-3
events to one or two of their streams (sometimes a new one), holding the block open 0-40 ms, and
leaving about 20 % of the blocks by raising (a rollback); about one block in eight deletes one of
the writer's earlier streams instead (``tests/stress/deletes.py``). A fourth writer keeps its
first block open 1.5 s, three times the subscribers' time limit, while the others commit (on
PostgreSQL; on SQLite they wait for its write lock). Two subscriber threads (``build_batch`` and
``build_iter``) read from position 0 meanwhile until every committed event of a surviving stream
arrived.

Writers are spawned processes: their entry point imports ``tests.backends.django.support``
(which configures Django) and adds the ``stress`` alias the parent passes them.
"""

from __future__ import annotations

import dataclasses
import itertools
import multiprocessing
import random
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import django
import pytest

from event_sourcery import StreamId
from event_sourcery.event import WrappedEvent
from tests.run_databases import django_database
from tests.stress import harness
from tests.stress.deletes import DeletePolicy, DeliveryFeed
from tests.stress.harness import (
    COMMITTED,
    FAILED,
    ROLLED_BACK,
    UNCERTAIN,
    Delivery,
    StressReport,
    StressTicked,
    TxRecord,
)

pytestmark = pytest.mark.timeout(60)

ALIAS = "stress"
STRESS_DATABASE = django_database() + "_stress"
POLL = timedelta(milliseconds=50)
TIMELIMIT = 0.5
BATCH_SIZE = 10
WRITERS = 3
TRANSACTIONS = 30
MAX_EVENTS = 3
HOLD_MAX = 0.04
ROLLBACK_RATIO = 0.2
STREAMS = 3
NEW_STREAM_RATIO = 0.1
LONG_HOLD = 1.5
DELETE_RATIO = 0.12
MAX_SECONDS = 40.0
CATCH_UP_SECONDS = 15.0


# --- the ``stress`` alias (in this process and in every writer) -------------------------------


def add_alias(database: dict[str, Any]) -> None:
    """Make ``database`` (a ``DATABASES`` entry) Django's ``stress`` alias in this process."""
    from django.conf import settings
    from django.db import connections

    if ALIAS in connections.settings:  # the alias of the previous run: forget its connection
        connections[ALIAS].close()
        del connections[ALIAS]
    settings.DATABASES[ALIAS] = database
    connections.settings[ALIAS] = database  # the handler's (already read) copy of DATABASES


def backend() -> Any:
    from event_sourcery_django import DjangoBackend, DjangoConfig

    return DjangoBackend().configure(DjangoConfig(using=ALIAS, gap_retry_interval=POLL))


# --- writers (spawned processes) --------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    database: dict[str, Any]
    index: int
    seed: int
    transactions: int
    long_hold: float = 0.0
    """When > 0, the first transaction after the streams stays open this long (and commits)."""
    wait_for_long: bool = False
    delete_ratio: float = DELETE_RATIO


class _Rollback(Exception):
    """Raised out of the ``atomic`` block: the caller's way to roll back."""


def writer_main(plan: Plan, results: Any, ready: Any, long_open: Any, delivered: Any) -> None:
    """Entry point of a writer process: puts ``(index, records, error)`` on ``results``."""
    from tests.backends.django import support  # noqa: F401  (configures Django)

    records: list[TxRecord] = []
    error = ""
    try:
        add_alias(plan.database)
        _write(plan, ready, long_open, records, DeliveryFeed(delivered))
    except BaseException:
        error = traceback.format_exc()
        ready.abort()
    finally:
        long_open.set()
        from django.db import connections

        connections.close_all()
    results.put((plan.index, records, error))


def _write(
    plan: Plan, ready: Any, long_open: Any, records: list[TxRecord], feed: DeliveryFeed
) -> None:
    rng = random.Random(plan.seed)
    deletes = DeletePolicy(plan.delete_ratio, plan.seed + 1, feed)
    store = backend().event_store
    versions: dict[StreamId, int] = {}
    streams: list[StreamId] = []

    def run(
        number: int,
        appends: list[tuple[StreamId, int]],
        hold: float,
        rollback: bool,
        delete: StreamId | None = None,
    ) -> str:
        from django.db import transaction

        uuids: list[str] = []
        owners: list[str] = []
        long = plan.long_hold > 0 and number == 1
        began, body_done = time.time(), False
        try:
            with transaction.atomic(using=ALIAS):
                if delete is not None:
                    store.delete_stream(delete)
                for stream, count in appends:
                    version = versions.get(stream, 0)
                    wrapped = [
                        WrappedEvent.wrap(
                            StressTicked(writer=plan.index, transaction=number, index=len(uuids)),
                            version=version + n,
                        )
                        for n in range(1, count + 1)
                    ]
                    uuids.extend(str(w.uuid) for w in wrapped)
                    owners.extend(stream.hex for _ in wrapped)
                    store.append(*wrapped, stream_id=stream, expected_version=version)
                if long:
                    long_open.set()  # the other writers start now and commit meanwhile
                time.sleep(hold)
                body_done = True
                if rollback:
                    raise _Rollback
            outcome, error = COMMITTED, ""
        except _Rollback:
            outcome, error = ROLLED_BACK, ""
        except Exception as failure:
            outcome, error = (UNCERTAIN if body_done else FAILED), repr(failure)
        deleted = delete.hex if delete is not None else ""
        ended = time.time()
        record = TxRecord(plan.index, number, tuple(uuids), outcome, began, ended, long, error)
        records.append(dataclasses.replace(record, streams=tuple(owners), deleted=deleted))
        if outcome == COMMITTED:
            offset = 0
            for stream, count in appends:
                versions[stream] = versions.get(stream, 0) + count
                if stream not in streams:
                    streams.append(stream)
                deletes.committed(stream, uuids[offset : offset + count])
                offset += count
            if delete is not None:
                streams.remove(delete)
                versions.pop(delete, None)
        return outcome

    for _ in range(5):  # the writer's first streams (SQLite may report its lock busy)
        if run(0, [(StreamId(), 1) for _ in range(STREAMS)], 0.0, False) == COMMITTED:
            break
    else:
        raise RuntimeError(f"could not create streams: {records[-1].error}")
    ready.wait(harness.START_WAIT)
    if plan.wait_for_long and not long_open.wait(harness.START_WAIT):
        raise RuntimeError("the long transaction did not start")
    for number in range(1, plan.transactions + 1):
        long = plan.long_hold > 0 and number == 1
        chosen = None if long else deletes.victim(streams, number == plan.transactions)
        if chosen is not None:
            victim, read = chosen
            rollback = number < plan.transactions and rng.random() < ROLLBACK_RATIO
            if run(number, [], rng.uniform(0, HOLD_MAX), rollback, victim) == COMMITTED:
                deletes.deleted(victim, read)
            continue
        active = deletes.active(streams)
        count = rng.randint(1, MAX_EVENTS)
        first = StreamId() if rng.random() < NEW_STREAM_RATIO else rng.choice(active)
        split = rng.randint(1, count - 1) if count > 1 and rng.random() < 0.5 else count
        others = [s for s in active if s != first]
        appends = [(first, split)]
        if split < count and others:
            appends.append((rng.choice(others), count - split))
        else:
            appends = [(first, count)]
        hold = plan.long_hold if long else rng.uniform(0, HOLD_MAX)
        run(number, appends, hold, not long and rng.random() < ROLLBACK_RATIO)


# --- subscribers (threads of this process) ----------------------------------------------------


class Subscriber(harness.Subscriber):
    """The harness's subscriber, reading through ``DjangoBackend`` on this thread's connection."""

    def run(self) -> None:
        from django.db import connections

        try:
            start = backend().subscriber.start_from(0)
            if self.mode == "iter":
                records = start.build_iter(self.timelimit)
                try:
                    self._consume([r] if r is not None else [] for r in records)
                finally:
                    harness.close(records)
            else:
                batches = start.build_batch(self.batch_size, self.timelimit)
                try:
                    self._consume(batches)
                finally:
                    harness.close(batches)
        except BaseException:
            self.error = traceback.format_exc()
        finally:
            connections[ALIAS].close()


class WritingSubscriber(Subscriber):
    """The harness's writing subscriber on Django: each of its connection's transactions is an
    ``atomic`` block left open across reads of the subscription."""

    def __init__(self, give_up: float) -> None:
        super().__init__("writing", ALIAS, "batch", BATCH_SIZE, TIMELIMIT, give_up)
        self.stopping = threading.Event()
        self.finished_writing = threading.Event()
        self._block: ExitStack | None = None
        """The open ``atomic`` block of the writer's transaction."""

    def run(self) -> None:
        self.writer = harness.SessionWriter(
            self._append,
            self._commit,
            self._rollback,
            seed=7,
            stopping=self.stopping,
            done=self.finished_writing,
        )
        try:
            super().run()
        finally:
            self._rollback()  # only left open if the subscriber failed
            self.finished_writing.set()

    def _append(self, events: list[WrappedEvent[Any]]) -> None:
        from django.db import transaction

        if self._block is None:
            self._block = ExitStack()
            self._block.enter_context(transaction.atomic(using=ALIAS))
        backend().event_store.append(*events, stream_id=StreamId())

    def _commit(self) -> None:
        if self._block is not None:
            self._block.close()
            self._block = None

    def _rollback(self) -> None:
        if self._block is not None:
            self._block.__exit__(_Rollback, _Rollback(), None)
            self._block = None

    def stop_writing(self, timeout: float) -> list[TxRecord]:
        return harness.stop_writer(self, self.stopping, self.finished_writing, timeout)


def run_stress(database: dict[str, Any], long_hold: float) -> StressReport:
    context = multiprocessing.get_context("spawn")
    results: Any = context.Queue()
    long_open: Any = context.Event()
    plans = [
        Plan(database, index, 7_000 + index, TRANSACTIONS, wait_for_long=long_hold > 0)
        for index in range(WRITERS)
    ]
    if long_hold > 0:
        long = Plan(database, WRITERS, 7_000 + WRITERS, TRANSACTIONS // 4, long_hold)
        plans.append(dataclasses.replace(long, delete_ratio=0.0))  # its events stay to check
    ready: Any = context.Barrier(len(plans))
    started = time.time()
    give_up = time.monotonic() + MAX_SECONDS
    subscribers = [
        Subscriber("batch", ALIAS, "batch", BATCH_SIZE, TIMELIMIT, give_up),
        Subscriber("iter", ALIAS, "iter", 1, TIMELIMIT, give_up),
        WritingSubscriber(give_up),
    ]
    feeds = [context.Queue() for _ in plans]
    subscribers[0].feeds = feeds
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
    transactions, errors, writers_done = harness.settle(
        processes, results, subscribers, give_up, CATCH_UP_SECONDS, TIMELIMIT
    )
    return StressReport(
        url=str(database["ENGINE"]),
        scenario=harness.Scenario(),
        transactions=transactions,
        subscribers={s.label: list(s.deliveries) for s in subscribers},
        caught_up_at={s.label: s.caught_up_at for s in subscribers},
        started=started,
        writers_done=writers_done,
        finished=time.time(),
        errors=errors,
    )


def read_after(position: int, give_up: float = 30.0) -> list[str]:
    """Uuids a new subscription from ``position`` delivers until it is caught up."""
    deadline = time.monotonic() + give_up
    delivered: list[str] = []
    batches = backend().subscriber.start_from(position).build_batch(500, 0.3)
    try:
        for batch in batches:
            delivered.extend(str(r.wrapped_event.uuid) for r in batch)
            if not batch:
                return delivered
            assert time.monotonic() < deadline, f"reading after {position} took too long"
    finally:
        harness.close(batches)
    return delivered  # pragma: no cover - the iterator is infinite


# --- the databases ----------------------------------------------------------------------------


def postgres_database() -> dict[str, Any]:
    import psycopg
    from psycopg import sql

    from tests.backends.django import support

    support.require(support.POSTGRES_ALIAS)
    from django.conf import settings
    from django.db import connections

    params = connections[support.POSTGRES_ALIAS].get_connection_params()
    params["dbname"] = "postgres"
    with psycopg.connect(**params, autocommit=True) as admin:
        name = sql.Identifier(STRESS_DATABASE)
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(name))
    return {**settings.DATABASES[support.POSTGRES_ALIAS], "NAME": STRESS_DATABASE}


def sqlite_database(path: Path, immediate: bool = True) -> dict[str, Any]:
    from django.conf import settings

    from tests.backends.django import support  # noqa: F401  (configures Django)

    options: dict[str, Any] = {"timeout": 30}
    if immediate and django.VERSION >= (5, 1):  # the write lock from BEGIN: no upgrade deadlock
        options["transaction_mode"] = "IMMEDIATE"
    return {**settings.DATABASES["default"], "NAME": str(path), "OPTIONS": options}


@pytest.fixture(
    scope="module",
    params=["sqlite", "sqlite-deferred", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from django.core.management import call_command
    from django.db import connections

    kind: str = request.param
    if kind.startswith("sqlite"):  # deferred: without transaction_mode, as on Django 4.2
        path = tmp_path_factory.mktemp("django-stress") / "events.sqlite3"
        database = sqlite_database(path, immediate=kind == "sqlite")
    else:
        database = postgres_database()
    add_alias(database)
    call_command("migrate", database=ALIAS, verbosity=0)
    connections[ALIAS].close()
    report = run_stress(database, LONG_HOLD)
    report.url = kind
    outcomes = Counter(t.outcome for t in report.transactions)
    delivered = {name: len(d) for name, d in report.subscribers.items()}
    print(
        f"django {kind}: {len(report.transactions)} transactions {dict(outcomes)}, "
        f"delivered {delivered}, writers {report.writers_done - report.started:.2f} s, "
        f"total {report.finished - report.started:.2f} s"
    )
    for error in report.errors[:3]:
        print(error[-1500:])
    yield report
    connections[ALIAS].close()


def uuids(deliveries: list[Delivery]) -> list[str]:
    return [d.uuid for d in deliveries]


def test_the_run_completes_with_commits_and_rollbacks(run: StressReport) -> None:
    assert run.errors == []
    main = [t for t in run.transactions if t.number > 0 and t.writer != harness.SUBSCRIBER_WRITER]
    assert len(main) == WRITERS * TRANSACTIONS + TRANSACTIONS // 4
    assert {COMMITTED, ROLLED_BACK} <= {t.outcome for t in run.transactions}
    assert len(run.committed) > 80
    assert len(run.not_committed) > 10
    assert [t.error for t in run.transactions if t.outcome == FAILED] == []


def test_every_committed_event_is_delivered_exactly_once_and_no_rolled_back_one(
    run: StressReport,
) -> None:
    """Every committed event of a stream never deleted; those of deleted streams at most once,
    and a ``build_batch`` subscriber never reads one after its delete committed."""
    assert run.errors == []
    for verdict in run.verdicts():
        assert verdict.exact, str(verdict)
        assert verdict.delivered == len(run.surviving) + verdict.deleted_delivered, str(verdict)


def test_streams_are_deleted_some_after_their_events_were_delivered(run: StressReport) -> None:
    deletes = [t for t in run.deletes if t.outcome == COMMITTED]
    assert len(deletes) >= WRITERS, [(t.outcome, t.error) for t in run.deletes]
    for verdict in run.verdicts():
        if verdict.subscriber != "writing":  # it may lag behind its own open transactions
            assert verdict.deleted_delivered > 0, str(verdict)


def test_the_writing_subscriber_gets_its_own_events_before_the_commit_and_once(
    run: StressReport,
) -> None:
    harness.assert_writing_subscriber_read_its_own_writes(run)


def test_both_subscribers_deliver_the_same_order(run: StressReport) -> None:
    """The same order, over every event both got (one may have missed a deleted stream's)."""
    batch, one_by_one = run.subscribers["batch"], run.subscribers["iter"]
    both = set(uuids(batch)) & set(uuids(one_by_one))
    assert run.surviving <= both
    assert [(d.uuid, d.position) for d in batch if d.uuid in both] == [
        (d.uuid, d.position) for d in one_by_one if d.uuid in both
    ]
    if run.url == "sqlite":  # one writer at a time: ids are in commit order
        positions = [d.position for d in batch]
        assert all(a < b for a, b in itertools.pairwise(positions)), positions


def test_resuming_from_a_delivered_position_delivers_exactly_the_rest(run: StressReport) -> None:
    """From positions taken during the run, those of events deleted later included: exactly the
    surviving events after it."""
    delivered = run.subscribers["batch"]
    assert len(delivered) > 10
    deleted = [index for index, d in enumerate(delivered) if d.uuid in run.deleted]
    assert deleted, "no delivered event of a deleted stream to resume from"
    for index in sorted({0, len(delivered) // 2, len(delivered) - 2, deleted[0], deleted[-1]}):
        position = delivered[index].position
        rest = [d.uuid for d in delivered[index + 1 :] if d.uuid in run.surviving]
        kind = "a deleted event's" if index in deleted else "a surviving event's"
        assert read_after(position) == rest, f"from {position} ({kind})"


def test_event_store_position_is_the_end_of_the_order(run: StressReport) -> None:
    """A delivered position, at or after the last surviving event, with nothing after it."""
    delivered = run.subscribers["batch"]
    order = [d.position for d in delivered]
    last_surviving = max(index for index, d in enumerate(delivered) if d.uuid in run.surviving)
    position = backend().event_store.position
    assert position in order
    assert order.index(position) >= last_surviving
    assert read_after(position) == []


def test_a_transaction_open_longer_than_the_time_limit_is_delivered_once(
    run: StressReport,
) -> None:
    long = run.long_transaction
    assert long is not None
    assert long.outcome == COMMITTED
    assert long.ended - long.began >= LONG_HOLD > TIMELIMIT
    overtaking = [
        t
        for t in run.transactions
        if t.outcome == COMMITTED and not t.long and long.began < t.ended < long.ended
    ]
    if run.url == "postgresql":  # SQLite's other writers wait for its write lock
        assert overtaking, "no other writer committed while the long transaction was open"
    for name, deliveries in run.subscribers.items():
        got = Counter(uuids(deliveries))
        assert all(got[u] == 1 for u in long.uuids), name
