"""Twitch EventSub: signatures, message envelopes, parsing and the WebSocket transport."""
