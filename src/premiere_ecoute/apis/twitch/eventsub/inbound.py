"""The edge's one way into the inbox: a verified, parsed delivery (webhook or WebSocket
frame) is stored as the domain message it means (``sessions.inbound``), keyed by Twitch's
message id so a redelivery is recognised."""

from __future__ import annotations

from premiere_ecoute.apis.twitch.eventsub import messages as m
from premiere_ecoute.core.inbox import GroupCommitWriter, InboxMessage
from premiere_ecoute.sessions.inbound import Inbound, to_inbox
from premiere_ecoute.telemetry.metrics import Metrics

SOURCE = "twitch"


async def store_inbound(writer: GroupCommitWriter, message_id: str, message: Inbound) -> bool:
    """Store durably (shared commit); True when new, False for a redelivery."""
    kind, payload, sent_at = to_inbox(message)
    return await writer.store(
        InboxMessage(
            source=SOURCE, external_id=message_id, kind=kind, payload=payload, sent_at=sent_at
        )
    )


async def store_ws_message(
    writer: GroupCommitWriter, metrics: Metrics, message_id: str, parsed: m.ParsedMessage
) -> None:
    """The WebSocket client's callback: frames go into the same inbox rows as webhooks."""
    if isinstance(parsed, m.Ignored | m.Verification):
        return
    stored = await store_inbound(writer, message_id, parsed)
    metrics.webhooks.labels("ws_stored" if stored else "ws_duplicate").inc()
