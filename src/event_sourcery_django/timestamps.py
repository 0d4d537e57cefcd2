"""The library keeps naive UTC timestamps; Django wants aware ones when ``USE_TZ`` is on."""

from __future__ import annotations

from datetime import datetime, timezone

from django.conf import settings


def to_db(moment: datetime) -> datetime:
    """A naive UTC timestamp as this project's Django stores it (aware UTC with ``USE_TZ``)."""
    if settings.USE_TZ and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


def from_db(moment: datetime) -> datetime:
    """A stored timestamp back as naive UTC."""
    if moment.tzinfo is not None:
        return moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment
