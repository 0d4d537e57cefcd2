"""The demo story: accounts, a rejected withdrawal, a conflict, a projection, the outbox, GDPR."""

from __future__ import annotations

from decimal import Decimal

from event_sourcery.event_sourcing import Repository
from event_sourcery.exceptions import ConcurrentStreamWriteError
from event_sourcery.interfaces import StorageStrategy
from examples.bank.domain import Account, AccountError
from examples.bank.projection import BalancesProjection
from examples.bank.publisher import Out, Publisher, relay
from examples.bank.service import Bank, account_id
from examples.bank.storage import URL_VARIABLE, demo_url, open_storage

CUSTOMERS = {
    "alice": ("Alice Archer", "alice@example.com"),
    "bob": ("Bob Baker", "bob@example.com"),
}


def main(out: Out = print, url: str | None = None) -> None:
    """Tell the story through ``out`` (one call per line).

    ``url`` is a SQLAlchemy URL or ``memory``; by default ``EVENT_SOURCERY_DEMO_URL`` or a SQLite
    file in the temporary directory. The database is emptied first.
    """
    storage = open_storage(url or demo_url())
    try:
        bank = Bank(storage)
        out(f"Event Sourcery bank demo on {storage.description}")
        out(f"(set {URL_VARIABLE} to another SQLAlchemy URL, or to 'memory', to change it)")
        open_accounts(bank, out)
        move_money(bank, out)
        concurrent_sessions(bank, out)
        projection = show_balances(bank, out)
        publish(bank, out)
        forget_bob(bank, projection, out)
    finally:
        storage.close()


def heading(out: Out, title: str) -> None:
    out("")
    out(f"== {title} ==")


def open_accounts(bank: Bank, out: Out) -> None:
    heading(out, "1. Opening accounts (named streams, emails encrypted with AES-GCM)")
    for name, (owner, email) in CUSTOMERS.items():
        bank.open_account(name, owner, email)
        out(f"  {name:<6}  opens account/{name:<6} as {owner:<13} <{email}>")
    # What the storage holds (through the backend authors' interface), to show it is ciphertext:
    alice = bank.load("alice").stream_id
    with bank.transaction() as backend:
        stored = backend[StorageStrategy].fetch_events(alice)[0]
    out(f"  stored  alice's email as {str(stored.data['email'])[:24]}...")


def move_money(bank: Bank, out: Out) -> None:
    heading(out, "2. Deposits and withdrawals")
    moves = [("alice", "deposit", "100.00"), ("bob", "deposit", "50.00")]
    moves += [("alice", "withdraw", "30.00"), ("bob", "withdraw", "500.00")]
    commands = {"deposit": bank.deposit, "withdraw": bank.withdraw}
    for name, command, amount in moves:
        line = f"  {name:<6}  {command + 's':<9} {amount:>7}  ->"
        try:
            account = commands[command](name, Decimal(amount))
        except AccountError as error:
            out(f"{line} REJECTED, {error}")
        else:
            out(f"{line} balance {account.aggregate.balance:>7}")


def concurrent_sessions(bank: Bank, out: Out) -> None:
    heading(out, "3. Two sessions change alice at once (optimistic concurrency)")
    try:
        with bank.transaction() as teller_session:
            tellers = Repository[Account](teller_session.event_store)
            with tellers.aggregate(account_id("alice"), Account()) as teller:
                out(f"  teller  loads alice at v{teller.stored_version}")
                with bank.transaction() as atm_session:
                    atms = Repository[Account](atm_session.event_store)
                    with atms.aggregate(account_id("alice"), Account()) as atm:
                        out(f"  atm     loads alice at v{atm.stored_version}")
                        atm.aggregate.withdraw(Decimal("20.00"))
                out(f"  atm     withdraws   20.00  -> saved at v{atm.stored_version}, committed")
                teller.aggregate.deposit(Decimal("10.00"))
    except ConcurrentStreamWriteError:
        out("  teller  deposits    10.00  -> ConcurrentStreamWriteError, rolled back")
    retried = bank.deposit("alice", Decimal("10.00"))
    balance = retried.aggregate.balance
    out(f"  teller  reloads, retries   -> saved at v{retried.stored_version}, balance {balance}")


def show_balances(bank: Bank, out: Out) -> BalancesProjection:
    heading(out, "4. Balances read model (subscription -> Projector)")
    projection = project(bank)
    out(f"  projected {projection.count} events, up to position {projection.position}")
    for account, row in projection.balances.rows.items():
        out(f"  {account:<14} {row.owner:<13} {row.balance:>7}  (v{row.version})")
    return projection


def project(bank: Bank) -> BalancesProjection:
    """A new projection, caught up with every event committed so far."""
    with bank.transaction() as backend:
        projection = BalancesProjection(backend)
        try:
            projection.catch_up(until=bank.committed)
        finally:
            projection.close()
    return projection


def publish(bank: Bank, out: Out) -> None:
    heading(out, "5. Outbox relay (at-least-once publishing)")
    publisher = Publisher(out, fail_on={3})
    for run in (1, 2, 3):
        out(f"  run {run}")
        with bank.transaction() as backend:  # committed after each run
            sent, failed = relay(backend.outbox, publisher, out)
        out(f"    => {sent} sent, {failed} failed")
    out(f"  published {len(publisher.sent)} messages in {publisher.attempts} attempts")


def forget_bob(bank: Bank, projection: BalancesProjection, out: Out) -> None:
    heading(out, "6. Bob asks to be forgotten (crypto-shredding)")
    out(f"  before  bob's email reads {bank.load('bob').aggregate.email}")
    bank.forget_customer("bob")
    out("  shred   the key of customer/bob")
    for name in CUSTOMERS:
        account = bank.load(name).aggregate
        out(f"  after   {name:<6} email {account.email:<18} balance {account.balance:>7}")
    same = project(bank).balances.rows == projection.balances.rows
    out(f"  rebuilt the balances from position 0: {'unchanged' if same else 'CHANGED'}")
