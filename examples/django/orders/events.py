"""The events of an order and the state they add up to."""

from __future__ import annotations

from collections.abc import Sequence

from event_sourcery import Event, StreamId
from event_sourcery.event import WrappedEvent

CATEGORY = "orders"


class ItemAdded(Event):
    """``quantity`` more of ``sku`` in the order."""

    sku: str
    quantity: int


def order_stream(order_id: str) -> StreamId:
    """The stream of order ``order_id`` (its name derives a stable stream uuid)."""
    return StreamId(name=f"order-{order_id}", category=CATEGORY)


def stream_version(events: Sequence[WrappedEvent[Event]]) -> int:
    """The version of the stream holding ``events`` (0 for a stream without events)."""
    if not events:
        return 0
    return events[-1].version or 0


def order_state(order_id: str, events: Sequence[WrappedEvent[Event]]) -> dict[str, object]:
    """The order as JSON: its version and how many of each sku it holds."""
    items: dict[str, int] = {}
    for wrapped in events:
        event = wrapped.event
        if isinstance(event, ItemAdded):
            items[event.sku] = items.get(event.sku, 0) + event.quantity
    return {"order": order_id, "version": stream_version(events), "items": items}
