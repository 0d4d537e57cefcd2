"""Orders kept as streams of events in Event Sourcery's Django app."""
