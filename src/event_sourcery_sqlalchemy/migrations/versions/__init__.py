"""Alembic revision scripts of the ``event_sourcery`` branch (loaded by Alembic, not imported)."""
