"""Persistence: one set of SQLAlchemy Core queries over SQLite and PostgreSQL."""
