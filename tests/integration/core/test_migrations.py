"""Migrations and models agree, and the schema can go down and up again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, pool

from premiere_ecoute.core import migrations
from premiere_ecoute.core.db import to_sqlalchemy_url
from premiere_ecoute.migrations.metadata import metadata


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(to_sqlalchemy_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    # The job queue's tables belong to procrastinate, and a few tests create scratch tables.
    ours = [
        d
        for d in diff
        if "procrastinate" not in repr(d)
        and not (d[0] == "remove_table" and d[1].name not in metadata.tables)
    ]
    assert ours == []


def test_head_is_applied_and_running_upgrade_again_changes_nothing(database_url: str) -> None:
    assert migrations.current_revision(database_url) == migrations.head_revision()
    migrations.upgrade(database_url)
    assert migrations.current_revision(database_url) == migrations.head_revision()
