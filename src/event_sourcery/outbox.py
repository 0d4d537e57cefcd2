"""The transactional outbox: at-least-once publishing of appended events."""

from event_sourcery._core.outbox_entry import OutboxEntry, RetryPolicy
from event_sourcery._store.outbox import NoOutboxStorageStrategy, Outbox, no_filter

__all__ = ["NoOutboxStorageStrategy", "Outbox", "OutboxEntry", "RetryPolicy", "no_filter"]
