"""Charts and viewers' histories: per-session and per-track aggregates of finished album
sessions and the chart pages' snapshots (kept by a periodic job), the viewer's
public-profile switch, and an index to read one viewer's votes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chart_sessions",
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("album_id", sa.BigInteger(), nullable=False),
        sa.Column("family", sa.String(length=20), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ratings", sa.Integer(), nullable=False),
        sa.Column("voters", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("sumsq", sa.Float(), nullable=True),
        sa.Column("extremes", sa.Integer(), nullable=False),
        sa.Column("viewer_score", sa.Float(), nullable=True),
        sa.Column("viewer_mode", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["listening_sessions.id"],
            name=op.f("fk_chart_sessions_session_id_listening_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["album_id"],
            ["albums.id"],
            name=op.f("fk_chart_sessions_album_id_albums"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_chart_sessions")),
    )
    op.create_index("ix_chart_sessions_stopped_at", "chart_sessions", ["stopped_at"])
    op.create_index("ix_chart_sessions_album_id", "chart_sessions", ["album_id"])
    op.create_table(
        "chart_tracks",
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("track_id", sa.BigInteger(), nullable=False),
        sa.Column("album_id", sa.BigInteger(), nullable=False),
        sa.Column("family", sa.String(length=20), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ratings", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("sumsq", sa.Float(), nullable=True),
        sa.Column("extremes", sa.Integer(), nullable=False),
        sa.Column("streamer", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["listening_sessions.id"],
            name=op.f("fk_chart_tracks_session_id_listening_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "track_id", name=op.f("pk_chart_tracks")),
    )
    op.create_index("ix_chart_tracks_stopped_at", "chart_tracks", ["stopped_at"])
    op.create_index("ix_chart_tracks_album_id", "chart_tracks", ["album_id"])
    op.create_index("ix_chart_tracks_track_id", "chart_tracks", ["track_id"])
    op.create_table(
        "chart_snapshots",
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("family", sa.String(length=20), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("period", "family", name=op.f("pk_chart_snapshots")),
    )
    op.add_column(
        "users",
        sa.Column("ratings_public", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.create_index("ix_votes_viewer_id", "votes", ["viewer_id"])


def downgrade() -> None:
    op.drop_index("ix_votes_viewer_id", table_name="votes")
    op.drop_column("users", "ratings_public")
    op.drop_table("chart_snapshots")
    op.drop_table("chart_tracks")
    op.drop_table("chart_sessions")
