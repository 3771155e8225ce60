"""Session command handlers (SPEC §3), registered on the command bus with their ports."""

from __future__ import annotations

import functools

from premiere_ecoute.core.command_bus import CommandBus
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions.handlers import lifecycle, playing, show, vod
from premiere_ecoute.sessions.ports import SessionPorts


def register_session_handlers(bus: CommandBus, ports: SessionPorts) -> None:
    bus.register(cmd.PrepareSession, functools.partial(lifecycle.prepare, ports=ports))
    bus.register(cmd.ChangeSettings, lifecycle.change_settings)
    bus.register(cmd.SetChatCommands, lifecycle.set_chat_commands)
    bus.register(cmd.StartSession, functools.partial(lifecycle.start, ports=ports))
    bus.register(cmd.StopSession, functools.partial(lifecycle.stop, ports=ports))
    bus.register(cmd.DeleteSession, lifecycle.delete_session)
    bus.register(cmd.ChangeTrack, functools.partial(playing.change_track, ports=ports))
    bus.register(cmd.SetVoteWindow, functools.partial(playing.set_vote_window, ports=ports))
    bus.register(cmd.CastVote, functools.partial(playing.cast_vote, ports=ports))
    bus.register(cmd.ControlPlayer, functools.partial(playing.control_player, ports=ports))
    bus.register(cmd.SetVod, vod.set_vod)
    bus.register(cmd.EndPoll, functools.partial(show.end_poll, ports=ports))
    bus.register(cmd.RunPollAgain, functools.partial(show.run_poll_again, ports=ports))
    bus.register(cmd.SwitchPlayback, functools.partial(show.switch_playback, ports=ports))
    bus.register(cmd.RemoveVoter, functools.partial(show.remove_voter, ports=ports))
