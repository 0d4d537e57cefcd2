"""Stress tests: exact subscriptions under concurrent writer processes (DESIGN §3.1)."""
