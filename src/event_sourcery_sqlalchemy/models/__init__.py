"""Table models: the ``Base*`` mixins, the ``Default*`` models and ``configure_models``."""

from event_sourcery_sqlalchemy.models.base import (
    BaseEvent,
    BaseOutboxEntry,
    BaseProjectorCursor,
    BaseSnapshot,
    BaseStream,
)
from event_sourcery_sqlalchemy.models.configure import BaseProto, configure_models
from event_sourcery_sqlalchemy.models.default import (
    DefaultEvent,
    DefaultOutboxEntry,
    DefaultProjectorCursor,
    DefaultSnapshot,
    DefaultStream,
)

__all__ = [
    "BaseEvent",
    "BaseOutboxEntry",
    "BaseProjectorCursor",
    "BaseProto",
    "BaseSnapshot",
    "BaseStream",
    "DefaultEvent",
    "DefaultOutboxEntry",
    "DefaultProjectorCursor",
    "DefaultSnapshot",
    "DefaultStream",
    "configure_models",
]
