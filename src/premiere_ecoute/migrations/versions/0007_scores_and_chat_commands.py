"""Honest scores and chat commands: the instance's rating means per scale family (the prior of
every Bayesian average, refreshed by a job), and each session's chat-command settings (which of
``!score``, ``!myvote``, ``!top`` the bot answers, and in which language).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "score_priors",
        sa.Column("family", sa.String(20), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("ratings", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("family", name="pk_score_priors"),
    )
    op.add_column(
        "listening_sessions",
        sa.Column("chat_language", sa.String(5), server_default="en", nullable=False),
    )
    op.add_column(
        "listening_sessions",
        sa.Column(
            "chat_commands",
            postgresql.JSONB(),
            server_default=sa.text("""'{"score": true, "myvote": true, "top": true}'::jsonb"""),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("listening_sessions", "chat_commands")
    op.drop_column("listening_sessions", "chat_language")
    op.drop_table("score_priors")
