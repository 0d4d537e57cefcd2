"""Read models fed by projectors with per-stream cursors (experimental upstream)."""

from event_sourcery.read_model.cursors_dao import CursorsDao, InMemoryCursorsDao
from event_sourcery.read_model.projector import Projector, ReadModel

__all__ = ["CursorsDao", "InMemoryCursorsDao", "Projector", "ReadModel"]
