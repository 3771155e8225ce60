"""Index of vote events by viewer, so deleting an account finds that person's votes in the
event log without reading all of it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_events_vote_viewer",
        "events",
        [sa.text("(payload ->> 'viewer_id')")],
        postgresql_where=sa.text("type = 'VoteAccepted'"),
    )


def downgrade() -> None:
    op.drop_index("ix_events_vote_viewer", table_name="events")
