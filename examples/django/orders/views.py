"""JSON views appending events to an order's stream and loading its state back."""

from __future__ import annotations

import json

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from pydantic import ValidationError

from event_sourcery.exceptions import ConcurrentStreamWriteError

from .events import ItemAdded, order_state, order_stream, stream_version
from .store import event_store


@require_GET
def order(request: HttpRequest, order_id: str) -> JsonResponse:
    """The order's state, from its events; 404 if nothing was ever added to it."""
    events = event_store().load_stream(order_stream(order_id))
    if not events:
        return JsonResponse({"error": f"no order {order_id}"}, status=404)
    return JsonResponse(order_state(order_id, events))


@csrf_exempt  # a JSON API for the example; keep CSRF protection for browser forms
@require_POST
def add_item(request: HttpRequest, order_id: str) -> JsonResponse:
    """Append ``ItemAdded`` from the JSON body ``{"sku": ..., "quantity": ...}``.

    The view loads the order, then appends at the next version: if another request appended in
    between, the append raises ``ConcurrentStreamWriteError`` and the answer is 409. A client
    that shows the order can send the version it saw as ``expected_version`` to get the same
    protection across requests. The read, the append and the new state share one transaction.
    """
    try:
        body = json.loads(request.body)
        event = ItemAdded(sku=body["sku"], quantity=body.get("quantity", 1))
        seen = body.get("expected_version")
        seen_version = None if seen is None else int(seen)
    except (ValueError, TypeError, KeyError, ValidationError) as error:
        return JsonResponse({"error": f"invalid item: {error}"}, status=400)
    store = event_store()
    stream = order_stream(order_id)
    try:
        with transaction.atomic():
            if seen_version is None:
                seen_version = stream_version(store.load_stream(stream))
            store.append(event, stream_id=stream, expected_version=seen_version)
            state = order_state(order_id, store.load_stream(stream))
    except ConcurrentStreamWriteError:
        return JsonResponse({"error": f"order {order_id} changed; reload it"}, status=409)
    return JsonResponse(state, status=201)
