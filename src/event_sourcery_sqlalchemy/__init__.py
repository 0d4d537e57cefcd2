"""SQLAlchemy backend: SQLite, PostgreSQL and MariaDB/MySQL through one ``Session``."""

try:
    from event_sourcery_sqlalchemy import models
    from event_sourcery_sqlalchemy.backend import SQLAlchemyBackend, SQLAlchemyConfig
    from event_sourcery_sqlalchemy.event_store import SqlAlchemyStorageStrategy
    from event_sourcery_sqlalchemy.models import (
        BaseEvent,
        BaseOutboxEntry,
        BaseProjectorCursor,
        BaseSnapshot,
        BaseStream,
        configure_models,
    )
    from event_sourcery_sqlalchemy.models_set import Models
except ModuleNotFoundError as error:  # the sqlalchemy extra is not installed
    from event_sourcery._core.extras import extra_missing

    replacement = extra_missing(error, __name__, "sqlalchemy", ["sqlalchemy"])
    if replacement is None:
        raise
    raise replacement from error

__all__ = [
    "BaseEvent",
    "BaseOutboxEntry",
    "BaseProjectorCursor",
    "BaseSnapshot",
    "BaseStream",
    "Models",
    "SQLAlchemyBackend",
    "SQLAlchemyConfig",
    "SqlAlchemyStorageStrategy",
    "configure_models",
    "models",
]
