"""A small bank: event-sourced accounts, a balances projection, an outbox relay, shredding.

Run it with ``make demo`` (or ``python -m examples.bank``).
"""
