"""Objects users hold (event store, outbox, subscriber, listeners): they orchestrate strategies."""
