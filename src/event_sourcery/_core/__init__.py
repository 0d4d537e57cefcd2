"""Pure rules and types of the event store: no I/O, no sleeping, no backend imports."""
