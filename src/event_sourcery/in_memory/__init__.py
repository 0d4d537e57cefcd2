"""The in-memory backend: thread-safe, for tests, demos and embedded use."""
