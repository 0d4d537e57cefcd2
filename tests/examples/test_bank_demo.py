"""The ``make demo`` application tells its whole story and states the right facts."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from examples.bank.app import main
from examples.bank.domain import SHREDDED

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def story() -> list[str]:
    lines: list[str] = []
    started = time.monotonic()
    main(out=lines.append)
    assert time.monotonic() - started < 3, "the demo must not wait or sleep"
    return lines


def line(story: list[str], pattern: str) -> str:
    matches = [text for text in story if re.search(pattern, text)]
    assert len(matches) == 1, f"{pattern!r} matched {matches}"
    return matches[0]


def test_every_section_is_told(story: list[str]) -> None:
    headings = [text for text in story if text.startswith("== ")]
    assert [h.split()[1] for h in headings] == ["1.", "2.", "3.", "4.", "5.", "6."]


def test_the_email_is_stored_encrypted(story: list[str]) -> None:
    assert "aesgcm1:" in line(story, r"stored\s+alice's email")
    assert not any("alice@example.com" in text for text in story if "stored" in text)


def test_the_overdraft_is_rejected(story: list[str]) -> None:
    rejected = line(story, "REJECTED")
    assert "bob" in rejected
    assert "insufficient funds: balance 50.00, asked for 500.00" in rejected


def test_the_concurrent_session_conflicts_and_the_retry_succeeds(story: list[str]) -> None:
    line(story, r"atm\s+withdraws\s+20.00\s+-> saved at v4")
    line(story, r"teller\s+deposits\s+10.00\s+-> ConcurrentStreamWriteError, nothing saved")
    line(story, r"teller\s+reloads, retries\s+-> saved at v5, balance 60.00")


def test_the_projection_shows_the_final_balances(story: list[str]) -> None:
    line(story, r"projected 7 events, up to position 7")
    line(story, r"account/alice\s+Alice Archer\s+60.00\s+\(v5\)")
    line(story, r"account/bob\s+Bob Baker\s+50.00\s+\(v2\)")


def test_the_outbox_publishes_every_event_once_despite_a_failure(story: list[str]) -> None:
    line(story, r"failed\s+MoneyDeposited\s+account/alice\s+v2\s+\(broker timeout\)")
    line(story, r"sent\s+MoneyDeposited\s+account/alice\s+v2 \(retried\)")
    line(story, r"Publishing an outbox entry failed; it will be retried")
    assert [text.strip() for text in story if text.strip().startswith("=>")] == [
        "=> 6 sent, 1 failed",
        "=> 1 sent, 0 failed",
        "=> 0 sent, 0 failed",
    ]
    line(story, r"published 7 messages in 8 attempts")


def test_shredding_masks_the_email_and_keeps_the_balances(story: list[str]) -> None:
    line(story, r"before\s+bob's email reads bob@example.com")
    line(story, rf"after\s+bob\s+email {re.escape(SHREDDED)}\s+balance\s+50.00")
    line(story, r"after\s+alice\s+email alice@example.com\s+balance\s+60.00")
    line(story, r"rebuilt the balances from position 0: unchanged")


def test_python_m_examples_bank_exits_0() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "examples.bank"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "6. Bob asks to be forgotten" in result.stdout
