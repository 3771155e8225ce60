"""Two session settings: how long the overlay and the public page show the final scene after a
stop (``final_scene_s``), and the language of the bot's chat announcements (``language``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "listening_sessions",
        sa.Column("final_scene_s", sa.Integer(), server_default="60", nullable=False),
    )
    op.add_column(
        "listening_sessions",
        sa.Column("language", sa.String(5), server_default="en", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("listening_sessions", "language")
    op.drop_column("listening_sessions", "final_scene_s")
