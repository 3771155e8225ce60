"""What a running show needs to stay true: each session keeps the track numbers it was
prepared with (a track's position belongs to its album or playlist entry, so preparing
another session never renumbers it), a vote keeps the voter's display name for the feed,
a session keeps the voters its streamer removed, and chat votes heard before the start are
kept apart (shown in the feed, counted nowhere).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "listening_sessions", sa.Column("track_numbers", postgresql.JSONB(), nullable=True)
    )
    op.add_column(
        "listening_sessions", sa.Column("removed_voters", postgresql.JSONB(), nullable=True)
    )
    op.add_column("votes", sa.Column("viewer_name", sa.String(100), nullable=True))
    op.create_table(
        "early_votes",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column(
            "session_id",
            sa.BigInteger(),
            sa.ForeignKey("listening_sessions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("viewer_id", sa.String(40), nullable=False),
        sa.Column("viewer_name", sa.String(100), nullable=True),
        sa.Column("value", sa.String(40), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_early_votes_session_sent_at",
        "early_votes",
        ["session_id", sa.text("sent_at DESC")],
    )


def downgrade() -> None:
    op.drop_index("ix_early_votes_session_sent_at", table_name="early_votes")
    op.drop_table("early_votes")
    op.drop_column("votes", "viewer_name")
    op.drop_column("listening_sessions", "removed_voters")
    op.drop_column("listening_sessions", "track_numbers")
