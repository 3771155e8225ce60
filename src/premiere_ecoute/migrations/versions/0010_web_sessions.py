"""Browser sessions live on the server, so they can be ended: logout, "log out everywhere", a
role change and an account deletion delete their rows, and a copied cookie stops working. The
cookie only carries a random id whose hash is stored here.

Worker heartbeats are kept per worker and source, so the heartbeat of a worker's loop no longer
overwrites the one of its periodic job (``/ready`` reads them apart).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_web_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"], unique=False)
    op.drop_constraint("pk_worker_heartbeats", "worker_heartbeats", type_="primary")
    op.create_primary_key("pk_worker_heartbeats", "worker_heartbeats", ["worker", "source"])


def downgrade() -> None:
    op.execute(
        "DELETE FROM worker_heartbeats a USING worker_heartbeats b "
        "WHERE a.worker = b.worker AND a.beat_at < b.beat_at"
    )
    op.drop_constraint("pk_worker_heartbeats", "worker_heartbeats", type_="primary")
    op.create_primary_key("pk_worker_heartbeats", "worker_heartbeats", ["worker"])
    op.drop_index(op.f("ix_web_sessions_user_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
