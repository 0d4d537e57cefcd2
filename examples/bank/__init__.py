"""A small bank: event-sourced accounts, a balances projection, an outbox relay, shredding.

Run it with ``make demo`` (or ``python -m examples.bank``): on a SQLite file by default, on
any database with ``EVENT_SOURCERY_DEMO_URL=<SQLAlchemy URL>``, in memory with
``EVENT_SOURCERY_DEMO_URL=memory``.
"""
