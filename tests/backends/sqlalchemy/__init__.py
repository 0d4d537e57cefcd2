"""SQLAlchemy backend on real SQLite, PostgreSQL and MariaDB databases (no mocks)."""
