"""Premiere Ecoute: listening sessions where a Twitch chat rates an album live."""
