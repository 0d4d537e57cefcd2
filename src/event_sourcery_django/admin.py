"""A read-only Django admin for the app's streams, events and outbox.

Events are history: nobody adds, edits or deletes them (or their streams) from the admin. The
outbox admin lists pending entries and dead letters and offers a "requeue" action that gives
dead letters a fresh set of attempts: ``settings.EVENT_SOURCERY_OUTBOX_ATTEMPTS`` if set, else
``DjangoConfig().outbox_attempts``. Dead letters (and only they) may be deleted, to drop an entry
that will never be publishable.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from event_sourcery_django.management import outbox_attempts
from event_sourcery_django.models import Event, OutboxEntry, Stream


def pretty_json(value: Any) -> SafeString:
    """``value`` as indented JSON in a ``<pre>`` block (escaped)."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return format_html('<pre class="event-sourcery-json">{}</pre>', text)


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """No add, change or delete: every field is shown read-only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Stream)
class StreamAdmin(ReadOnlyAdmin):
    list_display = ("uuid", "name", "category", "tenant_id", "version")
    list_filter = ("category", "tenant_id")
    search_fields = ("name", "uuid")
    ordering = ("-id",)


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "stream", "version", "tenant", "created_at")
    list_filter = ("name", "stream__category", "stream__tenant_id")
    search_fields = ("stream__name", "stream__uuid")
    list_select_related = ("stream",)
    ordering = ("-id",)
    fields = (
        "id",
        "uuid",
        "stream",
        "name",
        "version",
        "created_at",
        "tx_id",
        "pretty_data",
        "pretty_event_context",
    )
    readonly_fields = fields

    @admin.display(description="tenant", ordering="stream__tenant_id")
    def tenant(self, obj: Event) -> str:
        return obj.stream.tenant_id

    @admin.display(description="data")
    def pretty_data(self, obj: Event) -> SafeString:
        return pretty_json(obj.data)

    @admin.display(description="event context")
    def pretty_event_context(self, obj: Event) -> SafeString:
        return pretty_json(obj.event_context)


class OutboxStateFilter(admin.SimpleListFilter):
    """Pending entries (attempts left) versus dead letters (attempts exhausted)."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("pending", "Pending"), ("dead", "Dead letter")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "pending":
            return queryset.filter(tries_left__gt=0)
        if self.value() == "dead":
            return queryset.filter(tries_left__lte=0)
        return queryset


@admin.register(OutboxEntry)
class OutboxEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "position",
        "stream_name",
        "tries_left",
        "failures",
        "last_error",
        "next_attempt_at",
        "dead_letter",
    )
    list_filter = (OutboxStateFilter,)
    search_fields = ("stream_name",)
    ordering = ("id",)
    fields = (
        "id",
        "position",
        "stream_name",
        "created_at",
        "tries_left",
        "failures",
        "last_error",
        "next_attempt_at",
        "pretty_data",
    )
    readonly_fields = fields
    actions = ("requeue",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Dead letters may be deleted (by users with the model's delete permission)."""
        allowed = admin.ModelAdmin.has_delete_permission(self, request, obj)
        if obj is None:
            return allowed
        return allowed and obj.tries_left <= 0

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """The bulk delete action only removes dead letters; pending entries stay."""
        queryset.filter(tries_left__lte=0).delete()

    @admin.display(description="dead letter", boolean=True)
    def dead_letter(self, obj: OutboxEntry) -> bool:
        return obj.tries_left <= 0

    @admin.display(description="data")
    def pretty_data(self, obj: OutboxEntry) -> SafeString:
        return pretty_json(obj.data)

    @admin.action(description="Requeue selected dead letters")
    def requeue(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """Give the selected dead letters a fresh set of attempts, due now."""
        count = queryset.filter(tries_left__lte=0).update(
            tries_left=outbox_attempts(), next_attempt_at=None
        )
        skipped = queryset.count() - count
        self.message_user(request, f"{count} dead letter(s) requeued.", messages.SUCCESS)
        if skipped > 0:
            self.message_user(
                request, f"{skipped} pending entry(ies) left as they were.", messages.WARNING
            )
