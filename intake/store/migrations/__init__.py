"""Alembic migrations of the store; `intake db upgrade` runs them."""
