"""The outbox retry policy and the in-memory outbox strategy (SPEC §11)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from uuid import uuid4

import pytest

from event_sourcery import StreamId
from event_sourcery.event import RawEvent, RecordedRaw
from event_sourcery.in_memory.outbox import InMemoryOutboxStorageStrategy
from event_sourcery.outbox import RetryPolicy

NOW = datetime(2024, 1, 1, 12, 0)


# --------------------------------------------------------------------------- RetryPolicy


def test_the_default_policy_retries_at_once_three_times() -> None:
    policy = RetryPolicy()

    assert policy.attempts == 3
    assert policy.after_failure(3, 1, NOW) == (2, NOW)


@pytest.mark.parametrize(
    ("failures", "delay"),
    [(0, 10), (1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (30, 100)],
)
def test_backoff_doubles_after_each_failure_up_to_the_cap(failures: int, delay: int) -> None:
    policy = RetryPolicy(
        attempts=10, backoff=timedelta(seconds=10), max_backoff=timedelta(seconds=100)
    )

    left, next_at = policy.after_failure(7, failures, NOW)

    assert left == 6
    assert next_at == NOW + timedelta(seconds=delay)


@pytest.mark.parametrize(("left", "exhausted"), [(2, False), (1, False), (0, True), (-1, True)])
def test_an_entry_is_exhausted_when_no_attempts_are_left(left: int, exhausted: bool) -> None:
    assert RetryPolicy.exhausted(left) is exhausted


# --------------------------------------------------------------------------- in-memory strategy


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def recorded(position: int) -> RecordedRaw:
    raw = RawEvent(
        uuid=uuid4(),
        stream_id=StreamId(),
        created_at=NOW,
        name="Happened",
        data={"n": position},
        context={},
        version=position,
    )
    return RecordedRaw(entry=raw, position=position, tenant_id="")


def make(count: int, attempts: int = 3, backoff: float = 0) -> InMemoryOutboxStorageStrategy:
    policy = RetryPolicy(attempts=attempts, backoff=timedelta(seconds=backoff))
    strategy = InMemoryOutboxStorageStrategy(policy, clock=Clock())
    strategy.enqueue([recorded(p) for p in range(1, count + 1)])
    return strategy


def publish_all(
    strategy: InMemoryOutboxStorageStrategy, limit: int = 100, fail: set[int] = frozenset()
) -> list[int]:
    """One run; positions in ``fail`` raise. Returns the positions offered."""
    offered = []
    for entry in strategy.outbox_entries(limit):
        try:
            with entry as record:
                offered.append(record.position)
                if record.position in fail:
                    raise RuntimeError(f"boom {record.position}")
        except RuntimeError:
            pass
    return offered


def pending_positions(strategy: InMemoryOutboxStorageStrategy) -> list[int]:
    return [e.record.position for e in strategy.pending()]


def test_enqueue_gives_increasing_ids_in_append_order() -> None:
    strategy = make(0)

    first = strategy.enqueue([recorded(1), recorded(2)])
    second = strategy.enqueue([recorded(3)])

    assert first == [1, 2]
    assert second == [3]
    assert [e.id for e in strategy.pending()] == [1, 2, 3]


def test_published_entries_are_removed_and_never_offered_again() -> None:
    strategy = make(3)

    assert publish_all(strategy) == [1, 2, 3]
    assert publish_all(strategy) == []
    assert strategy.pending() == []
    assert strategy.dead_letters() == []


def test_a_run_offers_at_most_limit_entries_oldest_first() -> None:
    strategy = make(5)

    assert publish_all(strategy, limit=2) == [1, 2]
    assert publish_all(strategy, limit=2) == [3, 4]
    assert publish_all(strategy, limit=0) == []


def test_a_failed_publish_counts_an_attempt_and_propagates_to_the_runner() -> None:
    strategy = make(1)
    [entry] = list(strategy.outbox_entries(10))

    with pytest.raises(ValueError, match="nope"), entry:
        raise ValueError("nope")

    [pending] = strategy.pending()
    assert (pending.attempts_left, pending.failures) == (2, 1)
    assert pending.last_error == "ValueError: nope"


def test_claimed_entries_are_not_offered_to_a_second_run() -> None:
    strategy = make(3)
    first_run = strategy.outbox_entries(10)
    entry = next(first_run)

    assert publish_all(strategy) == []

    with entry as record:
        assert record.position == 1
    first_run.close()
    assert publish_all(strategy) == [2, 3]


def test_entries_of_a_run_stopped_early_become_claimable_again() -> None:
    strategy = make(3)
    run = strategy.outbox_entries(10)
    with next(run):
        pass

    run.close()

    assert publish_all(strategy) == [2, 3]


def test_concurrent_runs_never_publish_an_entry_twice() -> None:
    strategy = make(300)
    published: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(2)

    def runner() -> None:
        start.wait()
        while True:
            offered = 0
            for entry in strategy.outbox_entries(7):
                offered += 1
                with entry as record:
                    time.sleep(0)
                    with lock:
                        published.append(record.position)
            if not offered and not strategy.pending():
                return

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    counts = Counter(published)
    assert [position for position, n in counts.items() if n > 1] == []
    assert sorted(counts) == list(range(1, 301))


def test_an_entry_failing_every_attempt_becomes_a_dead_letter() -> None:
    strategy = make(2, attempts=2)

    assert publish_all(strategy, fail={1}) == [1, 2]
    assert publish_all(strategy, fail={1}) == [1]
    assert publish_all(strategy, fail={1}) == []

    [dead] = strategy.dead_letters()
    assert (dead.id, dead.record.position) == (1, 1)
    assert (dead.attempts_left, dead.failures) == (0, 2)
    assert dead.last_error == "RuntimeError: boom 1"
    assert strategy.pending() == []


def test_dead_letters_respect_the_limit() -> None:
    strategy = make(3, attempts=1)
    publish_all(strategy, fail={1, 2, 3})

    assert [e.id for e in strategy.dead_letters(limit=2)] == [1, 2]


def test_backoff_holds_a_failed_entry_back_until_it_is_due() -> None:
    strategy = make(2, attempts=3, backoff=60)
    clock: Clock = strategy._clock  # type: ignore[assignment]

    assert publish_all(strategy, fail={1}) == [1, 2]
    [entry] = strategy.pending()
    assert entry.next_attempt_at == NOW + timedelta(seconds=60)
    assert publish_all(strategy, fail={1}) == []

    clock.now += timedelta(seconds=60)
    assert publish_all(strategy, fail={1}) == [1]
    assert strategy.pending()[0].next_attempt_at == clock.now + timedelta(seconds=120)


def test_requeue_puts_dead_letters_back_in_append_order() -> None:
    strategy = make(4, attempts=1)
    run = strategy.outbox_entries(10)
    for entry in run:
        try:
            with entry as record:
                if record.position in (1, 3):
                    raise RuntimeError("down")
                raise KeyError("leave it pending")
        except (RuntimeError, KeyError):
            pass
    # attempts=1: every failure is final, so revive 2 and 4 first to keep them pending
    assert [e.id for e in strategy.dead_letters()] == [1, 2, 3, 4]
    assert strategy.requeue([4, 2]) == 2
    assert pending_positions(strategy) == [2, 4]

    assert strategy.requeue([3, 1, 99]) == 2

    assert pending_positions(strategy) == [1, 2, 3, 4]
    revived = {e.id: e for e in strategy.pending()}
    assert revived[1].attempts_left == 1
    assert revived[1].next_attempt_at is None
    assert revived[1].failures == 1
    assert strategy.dead_letters() == []
    assert strategy.requeue([1]) == 0


def test_requeued_entries_are_published_again() -> None:
    strategy = make(1, attempts=1)
    publish_all(strategy, fail={1})

    strategy.requeue([1])

    assert publish_all(strategy) == [1]
    assert strategy.pending() == []


def test_discard_drops_pending_entries() -> None:
    strategy = make(3)

    strategy.discard([2, 42])

    assert pending_positions(strategy) == [1, 3]


def test_a_failed_attempt_counts_shortens_and_schedules_in_one_place() -> None:
    policy = RetryPolicy(attempts=3, backoff=timedelta(seconds=1))
    now = datetime(2026, 1, 1)

    failed = policy.failed(3, 1, ValueError("x" * 5000), now)

    assert (failed.attempts_left, failed.failures) == (2, 2)
    assert failed.next_attempt_at == now + timedelta(seconds=2)  # second failure: doubled
    assert failed.last_error.startswith("ValueError: xxx")
    assert len(failed.last_error) == 2000
