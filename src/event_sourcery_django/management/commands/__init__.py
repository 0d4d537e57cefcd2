"""``event_sourcery_outbox`` (the outbox relay) and ``event_sourcery_tail``."""
