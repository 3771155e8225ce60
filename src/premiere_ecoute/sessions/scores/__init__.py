"""Pure scoring rules: scales, chat vote parsing, vote attribution and the report.

No I/O here: database-backed handlers call these functions and persist the JSON they produce.
"""

from premiere_ecoute.sessions.scores.chat import classify_chat, parse_command, parse_vote
from premiere_ecoute.sessions.scores.report import ReportState, TrackRef
from premiere_ecoute.sessions.scores.scale import Scale, check_poll_compatible
from premiere_ecoute.sessions.scores.timeline import Attribution, Timeline

__all__ = [
    "Attribution",
    "ReportState",
    "Scale",
    "Timeline",
    "TrackRef",
    "check_poll_compatible",
    "classify_chat",
    "parse_command",
    "parse_vote",
]
