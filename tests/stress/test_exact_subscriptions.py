"""Proof of exact subscriptions (DESIGN §3.1, ADR 0006) under concurrent writer processes.

Per database (a SQLite file, PostgreSQL, MariaDB — each in a database of its own, ``es_stress``),
one bounded run (``harness.run_stress``): three writer processes do 40 transactions each, appending
1-3 events to one or two random streams (sometimes new ones), holding the transaction open
0-50 ms before the commit and rolling back about 20 %; about one transaction in eight deletes one
of the writer's earlier streams instead (held open and rolled back alike); a fourth writer, which
deletes nothing, keeps its first transaction open 1.5 s — three times the subscribers' time limit
— while the others start and commit. Two subscribers (``build_batch`` and ``build_iter``, each
with its own session) read from position 0 meanwhile, until every committed event of a surviving
stream arrived. The tests below check that run; a larger one is
``python -m bench.stress_subscriptions``.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid

import pytest
from sqlalchemy.orm import Session

from event_sourcery import StreamId
from tests.contract.databases import IN_CI
from tests.stress import harness
from tests.stress.harness import COMMITTED, Scenario, StressReport, StressTicked

SCENARIO = Scenario(
    writers=3,
    transactions=40,
    max_events=3,
    hold_max=0.05,
    rollback_ratio=0.2,
    streams=4,
    new_stream_ratio=0.1,
    long_hold=1.5,
    delete_ratio=0.12,
    timelimit=0.5,
    batch_size=10,
    seed=20240601,
    max_seconds=40,
)

pytestmark = pytest.mark.timeout(60)


def prepared(url: str) -> str:
    absent = harness.prepare_database(url)
    if absent is not None:
        if IN_CI:
            pytest.fail(f"CI needs this database server: {absent}")
        pytest.skip(absent)
    return url


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite"),
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> StressReport:
    path = tmp_path_factory.mktemp("stress") / "events.sqlite3"
    url = prepared(harness.database_url(request.param, path))
    report = harness.run_stress(url, SCENARIO)
    print(report.summary())
    return report


def delivered_uuids(report: StressReport, subscriber: str) -> list[str]:
    return [d.uuid for d in report.subscribers[subscriber]]


def test_the_run_completes_with_commits_and_rollbacks(run: StressReport) -> None:
    assert run.errors == []
    main = [  # 0: creating the writer's streams
        t for t in run.transactions if t.number > 0 and t.writer != harness.SUBSCRIBER_WRITER
    ]
    assert len(main) == SCENARIO.writers * SCENARIO.transactions + SCENARIO.transactions // 4
    outcomes = {t.outcome for t in run.transactions}
    assert {COMMITTED, harness.ROLLED_BACK} <= outcomes, outcomes
    assert len(run.committed) > 100
    assert len(run.not_committed) > 10
    failed = [t.error for t in run.transactions if t.outcome == harness.FAILED]
    assert failed == []


def test_every_committed_event_is_delivered_exactly_once(run: StressReport) -> None:
    """Every committed event of a stream never deleted; those of deleted streams at most once."""
    assert run.errors == []
    for verdict in run.verdicts():
        assert verdict.missing == [], str(verdict)
        assert verdict.duplicates == [], str(verdict)
        assert verdict.unknown == [], str(verdict)
        assert verdict.repeated_positions == [], str(verdict)
        assert verdict.delivered == len(run.surviving) + verdict.deleted_delivered, str(verdict)


def test_streams_are_deleted_and_their_events_come_only_before_the_delete(
    run: StressReport,
) -> None:
    """Each writer but the long one deletes a stream whose events were delivered (its last
    transaction waits for one); a ``build_batch`` subscriber never reads an event of a stream
    after its delete committed (``build_iter`` hands out records it read ahead, so only its
    counts are checked)."""
    deletes = [t for t in run.deletes if t.outcome == COMMITTED]
    assert len(deletes) >= SCENARIO.writers, run.summary()
    assert run.deleted.keys() <= run.committed
    for verdict in run.verdicts():
        assert verdict.read_after_delete == [], str(verdict)
        if verdict.subscriber != "writing":  # it may lag behind its own open transactions
            assert verdict.deleted_delivered > 0, str(verdict)


def test_no_rolled_back_event_is_delivered(run: StressReport) -> None:
    for verdict in run.verdicts():
        assert verdict.rolled_back == [], str(verdict)


def test_the_writing_subscriber_gets_its_own_events_before_the_commit_and_once(
    run: StressReport,
) -> None:
    """ADR 0006: a subscription reads its session's own writes; committed ones come once, and
    the exactness above holds for it too (its verdict is in the tests above)."""
    harness.assert_writing_subscriber_read_its_own_writes(run)


def test_every_subscriber_delivers_the_same_order(run: StressReport) -> None:
    """The same order, over every event both got (one may have missed a deleted stream's)."""
    batch, one_by_one = run.subscribers["batch"], run.subscribers["iter"]
    both = {d.uuid for d in batch} & {d.uuid for d in one_by_one}
    assert run.surviving <= both
    assert [d.uuid for d in batch if d.uuid in both] == [
        d.uuid for d in one_by_one if d.uuid in both
    ]
    if harness.is_sqlite(run.url):  # one writer at a time: ids are in commit order
        positions = [d.position for d in batch]
        assert all(a < b for a, b in itertools.pairwise(positions)), positions


def test_resuming_from_a_delivered_position_delivers_exactly_the_rest(run: StressReport) -> None:
    """From positions taken during the run, those of events deleted later included: exactly the
    surviving events after it."""
    delivered = run.subscribers["batch"]
    assert len(delivered) > 10
    deleted = [index for index, d in enumerate(delivered) if d.uuid in run.deleted]
    assert deleted, "no delivered event of a deleted stream to resume from"
    picks = {0, len(delivered) // 2, len(delivered) - 2, deleted[0], deleted[-1]}
    for index in sorted(picks):
        position = delivered[index].position
        resumed = [d.uuid for d in harness.read_after(run.url, position)]
        rest = [d.uuid for d in delivered[index + 1 :] if d.uuid in run.surviving]
        kind = "a deleted event's" if index in deleted else "a surviving event's"
        assert resumed == rest, f"from {position} ({kind})"


def test_event_store_position_is_the_end_of_the_order(run: StressReport) -> None:
    """A delivered position, at or after the last surviving event, with nothing after it."""
    order = [d.position for d in run.subscribers["batch"]]
    last_surviving = max(
        index for index, d in enumerate(run.subscribers["batch"]) if d.uuid in run.surviving
    )
    position = harness.current_position(run.url)
    assert position in order
    assert order.index(position) >= last_surviving
    assert harness.read_after(run.url, position) == []


def test_a_transaction_open_longer_than_the_time_limit_is_delivered(run: StressReport) -> None:
    long = run.long_transaction
    assert long is not None
    assert long.outcome == COMMITTED
    assert long.ended - long.began >= SCENARIO.long_hold > SCENARIO.timelimit
    overtaking = [
        t
        for t in run.transactions
        if t.outcome == COMMITTED and not t.long and long.began < t.ended < long.ended
    ]
    if not harness.is_sqlite(run.url):  # SQLite's other writers wait for its write lock
        assert overtaking, "no other writer committed while the long transaction was open"
    for subscriber in run.subscribers:
        got = delivered_uuids(run, subscriber)
        for event_uuid in long.uuids:
            assert got.count(event_uuid) == 1, (
                f"{subscriber} got {event_uuid} {got.count(event_uuid)}x"
            )


def neighbours() -> tuple[uuid.UUID, uuid.UUID]:
    """Two uuid4s where the second sorts just below the first (in every database's order)."""
    while True:
        upper = uuid.uuid4()
        if upper.int & 0xF:
            return upper, uuid.UUID(int=upper.int - 1)


@pytest.mark.parametrize(
    ("kind", "held"),
    [
        pytest.param("postgres", "new", marks=pytest.mark.postgres, id="postgres-holder-creates"),
        pytest.param(
            "postgres", "existing", marks=pytest.mark.postgres, id="postgres-holder-appends"
        ),
        pytest.param(
            "mariadb",
            "new",
            marks=pytest.mark.mariadb,
            id="mariadb-holder-creates",
        ),
        pytest.param("mariadb", "existing", marks=pytest.mark.mariadb, id="mariadb-holder-appends"),
    ],
)
def test_an_open_transaction_does_not_block_a_writer_creating_a_stream(
    kind: str, held: str
) -> None:
    """DESIGN §3.1: writers are not serialised by a lock held until the caller commits.

    (SQLite has one writer at a time by design.)
    """
    url = prepared(harness.database_url(kind, database=f"{harness.STRESS_DATABASE}_locks"))
    engine = harness.make_engine(url)
    holder, other = Session(engine), Session(engine)
    holding, creating = neighbours()
    finished = threading.Event()
    failures: list[BaseException] = []
    try:
        store = harness.backend_on(holder).event_store
        if held == "existing":
            store.append(
                StressTicked(writer=0, transaction=0, index=0), stream_id=StreamId(holding)
            )
            holder.commit()
        store.append(
            StressTicked(writer=0, transaction=1, index=0),
            stream_id=StreamId(holding),
            expected_version=1 if held == "existing" else 0,
        )

        def create() -> None:
            try:
                harness.backend_on(other).event_store.append(
                    StressTicked(writer=1, transaction=0, index=0), stream_id=StreamId(creating)
                )
                other.commit()
            except BaseException as error:
                failures.append(error)
            finished.set()

        started = time.monotonic()
        thread = threading.Thread(target=create, daemon=True)
        thread.start()
        blocked = not finished.wait(2.0)
        waited = time.monotonic() - started
        holder.rollback()
        thread.join(10)
        assert not blocked, f"creating a stream waited {waited:.1f} s for another open transaction"
        assert failures == []
    finally:
        holder.close()
        other.close()
        engine.dispose()


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param(
            "mariadb",
            marks=pytest.mark.mariadb,
        ),
    ],
)
def test_writers_creating_interleaved_streams_both_commit(kind: str) -> None:
    """Two open transactions each create a stream, then one more between the other's keys."""
    url = prepared(harness.database_url(kind, database=f"{harness.STRESS_DATABASE}_locks"))
    engine = harness.make_engine(url)
    first, second = Session(engine), Session(engine)
    while True:
        base = uuid.uuid4()
        if 2 <= base.int & 0xF <= 12:
            break

    def key(offset: int) -> StreamId:
        return StreamId(uuid.UUID(int=base.int + offset))

    outcomes: dict[str, str] = {}

    def append_and_commit(name: str, session: Session, stream: StreamId) -> None:
        try:
            harness.backend_on(session).event_store.append(
                StressTicked(writer=0, transaction=1, index=0), stream_id=stream
            )
            session.commit()
            outcomes[name] = "committed"
        except Exception as error:
            outcomes[name] = repr(error)
            session.rollback()

    try:
        # keys in order: second's next < first's < first's next < second's
        for session, stream in ((first, key(0)), (second, key(2))):
            harness.backend_on(session).event_store.append(
                StressTicked(writer=0, transaction=0, index=0), stream_id=stream
            )
        threads = [
            threading.Thread(target=append_and_commit, args=("first", first, key(1))),
            threading.Thread(target=append_and_commit, args=("second", second, key(-1))),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert outcomes == {"first": "committed", "second": "committed"}
    finally:
        first.close()
        second.close()
        engine.dispose()
