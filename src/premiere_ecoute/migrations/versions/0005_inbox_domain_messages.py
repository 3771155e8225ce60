"""The inbox keeps what a delivery means, not Twitch's JSON: rows stored before this version are
rewritten in the new shape (kinds ``chat``, ``poll``, ``revocation``), so the ingest reads one
shape only. The durable-subscriber positions table, which nothing used, is dropped.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_CHAT = """
UPDATE inbox SET kind = 'chat', payload = jsonb_strip_nulls(jsonb_build_object(
    'broadcaster_id', payload #>> '{body,event,broadcaster_user_id}',
    'chatter_id', payload #>> '{body,event,chatter_user_id}',
    'chatter_login', payload #>> '{body,event,chatter_user_login}',
    'chatter_name', coalesce(payload #>> '{body,event,chatter_user_name}',
                             payload #>> '{body,event,chatter_user_login}'),
    'text', payload #>> '{body,event,message,text}'
))
WHERE kind = 'channel.chat.message' AND payload ->> 'type' = 'notification'
"""
_POLL = """
UPDATE inbox SET kind = 'poll', payload = jsonb_build_object(
    'poll_id', payload #>> '{body,event,id}',
    'broadcaster_id', payload #>> '{body,event,broadcaster_user_id}',
    'final', kind = 'channel.poll.end',
    'counts', coalesce((
        SELECT jsonb_object_agg(title, votes) FROM (
            SELECT c ->> 'title' AS title, sum(coalesce((c ->> 'votes')::int, 0)) AS votes
            FROM jsonb_array_elements(payload #> '{body,event,choices}') AS c
            GROUP BY c ->> 'title'
        ) AS tallied
    ), '{}'::jsonb)
)
WHERE kind IN ('channel.poll.begin', 'channel.poll.progress', 'channel.poll.end')
  AND payload ->> 'type' = 'notification'
  AND jsonb_typeof(payload #> '{body,event,choices}') = 'array'
"""
_REVOCATION = """
UPDATE inbox SET kind = 'revocation', payload = jsonb_build_object(
    'subscription_id', payload #>> '{body,subscription,id}',
    'subscription_type', payload #>> '{body,subscription,type}',
    'reason', payload #>> '{body,subscription,status}',
    'broadcaster_id', payload #>> '{body,subscription,condition,broadcaster_user_id}'
)
WHERE payload ->> 'type' = 'revocation'
"""


def upgrade() -> None:
    # Revocations first: their subscription type may be a chat or poll type too.
    op.execute(_REVOCATION)
    op.execute(_CHAT)
    op.execute(_POLL)
    op.drop_table("subscriber_positions")


def downgrade() -> None:
    op.create_table(
        "subscriber_positions",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_subscriber_positions")),
    )
