"""The large exact-subscription stress run (DESIGN §3.1): ``python -m bench.stress_subscriptions``.

    python -m bench.stress_subscriptions [sqlite|postgres|mariadb] [--writers 6] ...

Writer processes append in transactions held open for random times, some rolled back, one held
far longer than the subscribers' time limit; three subscribers (``build_batch``,
``build_iter``, and a ``build_batch`` whose own session also appends and commits or rolls back
between reads) read live. Prints what was committed, rolled back and delivered, the live and
catch-up delivery rates and the commit → delivery lag, then checks: every committed event
delivered exactly once to each subscriber (``duplicates=0 missing=0``), none of the rolled-back
ones (of other writers), the same order for the two that only read, and exact resumption from
delivered positions. Exits 1 when a check fails, 2 when the database server is absent. The
bounded version of this run is ``tests/stress/test_exact_subscriptions.py``; the harness is
``tests/stress/harness.py``.

Servers come from ``EVENT_SOURCERY_POSTGRES_URL`` / ``EVENT_SOURCERY_MARIADB_URL`` (defaults:
the local servers); the run (re)creates its own database ``es_stress`` there. SQLite uses a file
in a temporary directory (WAL, busy timeout 30 s).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.stress import harness
from tests.stress.harness import Scenario, StressReport, percentile


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.stress_subscriptions")
    parser.add_argument(
        "database", nargs="?", default="sqlite", choices=["sqlite", "postgres", "mariadb"]
    )
    parser.add_argument("--writers", type=int, default=6, help="writer processes")
    parser.add_argument("--transactions", type=int, default=150, help="per writer")
    parser.add_argument("--max-events", type=int, default=5, help="per transaction (1..N)")
    parser.add_argument("--hold-ms", type=float, default=50, help="max hold before commit")
    parser.add_argument("--rollback", type=float, default=0.2, help="share rolled back")
    parser.add_argument("--streams", type=int, default=8, help="per writer at the start")
    parser.add_argument("--new-streams", type=float, default=0.1, help="share creating one")
    parser.add_argument("--long-hold", type=float, default=3.0, help="seconds (0: none)")
    parser.add_argument("--timelimit", type=float, default=0.5, help="subscriber time limit")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-seconds", type=float, default=900)
    return parser.parse_args(argv)


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f} events/s" if seconds > 0 else "-"


def report_lines(report: StressReport) -> tuple[list[str], bool]:
    """The printed figures and whether every check passed."""
    lines: list[str] = []
    ok = not report.errors
    lines.extend(f"ERROR {error}" for error in report.errors)
    outcomes: dict[str, int] = {}
    for transaction in report.transactions:
        outcomes[transaction.outcome] = outcomes.get(transaction.outcome, 0) + 1
    committed, not_committed = len(report.committed), len(report.not_committed)
    writing = report.writers_done - report.started
    lines.append(f"transactions: {outcomes}")
    failures = Counter(t.error for t in report.transactions if t.outcome == harness.FAILED)
    lines.extend(f"  failed {n}x: {error}" for error, n in failures.most_common(3))
    lines.append(
        f"events: committed={committed} rolled_back={not_committed} "
        f"(writers took {writing:.1f} s, {rate(committed, writing)} committed)"
    )
    long = report.long_transaction
    if long is not None:
        overtaken = sum(
            1
            for t in report.transactions
            if t.outcome == harness.COMMITTED and not t.long and long.began < t.ended < long.ended
        )
        lines.append(
            f"long transaction: open {long.ended - long.began:.1f} s ({long.outcome}), "
            f"{overtaken} other commits meanwhile"
        )
    for verdict in report.verdicts():
        deliveries = report.subscribers[verdict.subscriber]
        lags = report.lags(verdict.subscriber)
        span = deliveries[-1].at - deliveries[0].at if len(deliveries) > 1 else 0.0
        lines.append(
            f"{verdict.subscriber:>5}: delivered={verdict.delivered} "
            f"duplicates={len(verdict.duplicates)} missing={len(verdict.missing)} "
            f"rolled_back_delivered={len(verdict.rolled_back)} unknown={len(verdict.unknown)} "
            f"repeated_positions={len(verdict.repeated_positions)}; "
            f"live {rate(verdict.delivered, span)}; lag p50={percentile(lags, 0.5) * 1000:.0f} ms "
            f"p99={percentile(lags, 0.99) * 1000:.0f} ms max={percentile(lags, 1.0) * 1000:.0f} ms"
        )
        if long is not None:
            later = report.lags(verdict.subscriber, committed_after=long.ended)
            lines.append(
                f"{'':>7}lag of commits after the long transaction: "
                f"p50={percentile(later, 0.5) * 1000:.0f} ms "
                f"p99={percentile(later, 0.99) * 1000:.0f} ms "
                f"max={percentile(later, 1.0) * 1000:.0f} ms ({len(later)} events)"
            )
        ok = ok and verdict.exact and verdict.delivered == committed
    orders = [  # the writing subscriber gets its own events early, before their commit
        [d.uuid for d in deliveries]
        for name, deliveries in report.subscribers.items()
        if name != "writing"
    ]
    same = all(order == orders[0] for order in orders)
    lines.append(f"same order for every reading subscriber: {same}")
    ok = ok and same
    return lines, ok


def resume_lines(report: StressReport) -> tuple[list[str], bool]:
    """Catch-up rate from 0, and exact resumption from delivered positions and the end."""
    delivered = report.subscribers["batch"]
    started = time.time()
    everything = harness.read_after(report.url, 0)
    took = (everything[-1].at - started) if everything else 0.0
    ok = [d.uuid for d in everything] == [d.uuid for d in delivered]
    lines = [
        f"catch-up from 0 (batches of 500): {len(everything)} events in {took:.2f} s "
        f"({rate(len(everything), took)}), same order: {ok}"
    ]
    for index in sorted({0, len(delivered) // 4, len(delivered) // 2, len(delivered) - 2}):
        if not 0 <= index < len(delivered):
            continue
        position = delivered[index].position
        resumed = [d.uuid for d in harness.read_after(report.url, position)]
        exact = resumed == [d.uuid for d in delivered[index + 1 :]]
        ok = ok and exact
        lines.append(f"resume from position {position}: {len(resumed)} events, exact: {exact}")
    end = harness.current_position(report.url)
    at_end = bool(delivered) and end == delivered[-1].position
    after_end = harness.read_after(report.url, end)
    lines.append(
        f"event_store.position={end}: last delivered: {at_end}, delivers after it: {len(after_end)}"
    )
    return lines, ok and at_end and not after_end


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="es-stress-") as directory:
        url = harness.database_url(args.database, Path(directory) / "events.sqlite3")
        absent = harness.prepare_database(url)
        if absent is not None:
            print(absent, file=sys.stderr)
            return 2
        scenario = Scenario(
            writers=args.writers,
            transactions=args.transactions,
            max_events=args.max_events,
            hold_max=args.hold_ms / 1000,
            rollback_ratio=args.rollback,
            streams=args.streams,
            new_stream_ratio=args.new_streams,
            long_hold=args.long_hold,
            timelimit=args.timelimit,
            batch_size=args.batch_size,
            seed=args.seed,
            max_seconds=args.max_seconds,
            catch_up_seconds=60,
        )
        print(
            f"{args.database}: {args.writers} writers x {args.transactions} transactions of "
            f"1-{args.max_events} events, held 0-{args.hold_ms:.0f} ms, "
            f"{args.rollback:.0%} rolled back, long hold {args.long_hold} s, "
            f"time limit {args.timelimit} s"
        )
        report = harness.run_stress(url, scenario)
        lines, ok = report_lines(report)
        more, resumed = resume_lines(report) if report.subscribers["batch"] else ([], False)
        for line in lines + more:
            print(line)
        passed = ok and resumed
        print(f"total {time.time() - report.started:.1f} s: {'PASS' if passed else 'FAIL'}")
        return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
