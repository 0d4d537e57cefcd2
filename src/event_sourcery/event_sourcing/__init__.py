"""Event-sourced aggregates and the repository that loads and saves them."""

from event_sourcery.event_sourcing.aggregate import Aggregate
from event_sourcery.event_sourcing.repository import Repository, WrappedAggregate

__all__ = ["Aggregate", "Repository", "WrappedAggregate"]
