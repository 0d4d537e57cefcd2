"""Conversions between rows and records (upstream module name kept)."""

from event_sourcery_sqlalchemy.event_store import raw_event

__all__ = ["raw_event"]
