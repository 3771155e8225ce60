"""A session lives on after the stream: the VOD it was recorded in (a Twitch or YouTube URL and
where the session starts in it), and the outcome of the last Twitch stream marker, so that a
refusal is told to the streamer once and not at every track.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("listening_sessions", sa.Column("vod_url", sa.String(length=500), nullable=True))
    op.add_column(
        "listening_sessions",
        sa.Column("vod_offset_s", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column(
        "listening_sessions", sa.Column("marker_status", sa.String(length=20), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("listening_sessions", "marker_status")
    op.drop_column("listening_sessions", "vod_offset_s")
    op.drop_column("listening_sessions", "vod_url")
