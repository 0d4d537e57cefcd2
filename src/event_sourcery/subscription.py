"""Subscriptions: the builder phases ``start_from`` → filter → ``build_iter``/``build_batch``."""

from event_sourcery._core.cursor import Seconds
from event_sourcery._store.subscriber import (
    BuildPhase,
    FilterPhase,
    PositionPhase,
    SubscriptionBuilder,
)

__all__ = ["BuildPhase", "FilterPhase", "PositionPhase", "Seconds", "SubscriptionBuilder"]
