"""Index for the control page's feed of the latest votes of a session.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_votes_session_sent_at",
        "votes",
        ["session_id", "sent_at", "id"],
        postgresql_ops={"sent_at": "DESC", "id": "DESC"},
    )


def downgrade() -> None:
    op.drop_index("ix_votes_session_sent_at", table_name="votes")
