"""Compatibility alias: ``from event_sourcery._event_store.event.dto import Context``."""

from event_sourcery._core.context import Context

__all__ = ["Context"]
