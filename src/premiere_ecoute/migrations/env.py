"""Alembic environment: synchronous psycopg, one advisory lock so concurrent starts are safe."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

from premiere_ecoute.core.db import to_sqlalchemy_url
from premiere_ecoute.migrations.metadata import metadata

MIGRATION_LOCK = 7_301_955_000


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url
    engine = create_engine(to_sqlalchemy_url(url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
        connection.commit()
        try:
            context.configure(connection=connection, target_metadata=metadata, compare_type=True)
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
            connection.commit()
    engine.dispose()


run_migrations_online()
