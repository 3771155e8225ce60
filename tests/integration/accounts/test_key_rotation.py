"""SECRET_KEY rotation: the former key still decrypts while ``keys rotate`` re-encrypts every
stored secret with the new one; afterwards the former key is no longer needed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from premiere_ecoute.accounts.models import OAuthCredential
from premiere_ecoute.accounts.repository import reencrypt_secrets
from premiere_ecoute.core.crypto import Encryptor
from premiere_ecoute.demo import create_user

NEW_KEY = "n" * 40


async def _stored(c: Any) -> list[str]:
    async with c.db.session() as s:
        rows = await s.scalars(select(OAuthCredential))
        return [v for r in rows for v in (r.access_token_enc, r.refresh_token_enc) if v]


async def test_rotation_reencrypts_every_stored_token(fake_container: Any) -> None:
    c = fake_container
    await create_user(c, "streamerone", "streamer")
    old = c.encryptor
    before = await _stored(c)
    plain = sorted(old.decrypt(v) for v in before)
    assert len(before) == 4  # Twitch and Spotify, access and refresh
    new_only = Encryptor(NEW_KEY)
    with pytest.raises(ValueError):
        new_only.decrypt(before[0])

    during = Encryptor(NEW_KEY, [c.settings.secret_key])
    assert sorted(during.decrypt(v) for v in before) == plain
    async with c.db.session() as s:
        assert await reencrypt_secrets(s, during) == 4
        await s.commit()

    after = await _stored(c)
    assert sorted(new_only.decrypt(v) for v in after) == plain
    with pytest.raises(ValueError):
        old.decrypt(after[0])
