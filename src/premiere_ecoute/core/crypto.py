"""Secrets at rest (Fernet, key derived from SECRET_KEY) and token hashing.

Key rotation: the new SECRET_KEY encrypts; the keys in SECRET_KEY_PREVIOUS still decrypt, until
``premiere-ecoute keys rotate`` has re-encrypted every stored secret with the new one."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


def _fernet(secret_key: str) -> Fernet:
    key = hashlib.sha256(b"premiere-ecoute/fernet/" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


class Encryptor:
    def __init__(self, secret_key: str, previous: Sequence[str] = ()) -> None:
        self._fernet = MultiFernet([_fernet(k) for k in (secret_key, *previous)])

    def rotate(self, ciphertext: str) -> str:
        """The same secret, encrypted with the current key (it may have been encrypted with
        a previous one)."""
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("cannot decrypt: SECRET_KEY changed or data corrupted") from exc

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("cannot decrypt: SECRET_KEY changed or data corrupted") from exc


TOKEN_PREFIX = "pe_"


def new_api_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
