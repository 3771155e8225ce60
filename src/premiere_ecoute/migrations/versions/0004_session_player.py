"""The player monitor's last reading is stored on the session, so every web process shows the
same player state without passing it around in live messages.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("listening_sessions", sa.Column("player", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("listening_sessions", "player")
