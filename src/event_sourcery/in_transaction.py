"""In-transaction listeners: synchronous reactions inside ``append``."""

from event_sourcery._store.listeners import Dispatcher, Listener, Listeners

__all__ = ["Dispatcher", "Listener", "Listeners"]
