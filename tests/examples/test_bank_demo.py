"""The ``make demo`` application tells its whole story and states the right facts.

The story runs on a SQLite file (the default of ``make demo``) and in memory; on PostgreSQL, when
the server is reachable, it must tell the very same story.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from examples.bank.app import main
from examples.bank.domain import SHREDDED
from examples.bank.storage import MEMORY, URL_VARIABLE
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.run_databases import derived

ROOT = Path(__file__).resolve().parents[2]
SERVER_URL = os.environ.get(
    "EVENT_SOURCERY_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DEMO_DATABASE = derived(SERVER_URL, "demo")
"""The demo drops and recreates its tables: it gets a database of its own on the server."""


def tell(url: str, seconds: float = 3) -> list[str]:
    lines: list[str] = []
    started = time.monotonic()
    main(out=lines.append, url=url)
    assert time.monotonic() - started < seconds, "the demo must not wait or sleep"
    return lines


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'bank.sqlite3'}"


@pytest.fixture(scope="module", params=["sqlite", MEMORY])
def story(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    if request.param == MEMORY:
        return tell(MEMORY)
    return tell(sqlite_url(tmp_path_factory.mktemp("demo")))


def line(story: list[str], pattern: str) -> str:
    matches = [text for text in story if re.search(pattern, text)]
    assert len(matches) == 1, f"{pattern!r} matched {matches}"
    return matches[0]


def comparable(story: list[str]) -> list[str]:
    """The story without what differs between runs and databases: the header, the ciphertext."""
    return [re.sub(r"aesgcm1:\S+", "aesgcm1:<ciphertext>", text) for text in story[2:]]


def test_the_header_names_the_storage_and_the_switch(story: list[str]) -> None:
    storage = r"(a SQLite file, .*bank\.sqlite3|the in-memory backend)$"
    assert re.match(f"Event Sourcery bank demo on {storage}", story[0])
    assert URL_VARIABLE in story[1]


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
    line(story, r"atm\s+withdraws\s+20.00\s+-> saved at v4, committed")
    line(story, r"teller\s+deposits\s+10.00\s+-> ConcurrentStreamWriteError, rolled back")
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


def test_sqlite_and_memory_tell_the_same_story(tmp_path: Path) -> None:
    assert comparable(tell(sqlite_url(tmp_path))) == comparable(tell(MEMORY))


def test_a_second_run_starts_from_an_empty_database(tmp_path: Path) -> None:
    first = tell(sqlite_url(tmp_path))
    assert comparable(tell(sqlite_url(tmp_path))) == comparable(first)


def postgres_demo_url() -> str:
    """The demo's own database on the contract suite's PostgreSQL server (created if missing)."""
    server = make_url(SERVER_URL)
    engine = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            query = text("SELECT 1 FROM pg_database WHERE datname = :name")
            if connection.execute(query, {"name": DEMO_DATABASE}).first() is None:
                connection.execute(text(f'CREATE DATABASE "{DEMO_DATABASE}"'))
    except Exception as error:
        pytest.skip(
            f"PostgreSQL at {server.render_as_string(hide_password=True)} unavailable: {error}"
        )
    finally:
        engine.dispose()
    return server.set(database=DEMO_DATABASE).render_as_string(hide_password=False)


@pytest.mark.postgres
def test_postgresql_tells_the_same_story(tmp_path: Path) -> None:
    # A subscription there waits until every older transaction on the server has ended.
    on_postgres = tell(postgres_demo_url(), seconds=30)
    assert on_postgres[0].startswith("Event Sourcery bank demo on PostgreSQL, ")
    assert on_postgres[0].endswith(f"/{DEMO_DATABASE}")
    assert comparable(on_postgres) == comparable(tell(sqlite_url(tmp_path)))


def run_module(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "examples.bank"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_python_m_examples_bank_uses_a_sqlite_file_in_the_temporary_directory(
    tmp_path: Path,
) -> None:
    env = {key: value for key, value in os.environ.items() if key != URL_VARIABLE}
    env["TMPDIR"] = str(tmp_path)
    result = run_module(env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    database = tmp_path / "event-sourcery-demo.sqlite3"
    assert result.stdout.startswith(f"Event Sourcery bank demo on a SQLite file, {database}\n")
    assert "6. Bob asks to be forgotten" in result.stdout
    assert database.exists()


def test_an_unusable_database_is_reported_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-directory' / 'bank.sqlite3'}"
    result = run_module({**os.environ, URL_VARIABLE: url})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"The demo cannot use {url} ({URL_VARIABLE}): ")
    assert "Traceback" not in result.stderr
