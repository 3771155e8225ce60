"""Secrets at rest (Fernet, key derived from SECRET_KEY) and token hashing."""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken


class Encryptor:
    def __init__(self, secret_key: str) -> None:
        key = hashlib.sha256(b"premiere-ecoute/fernet/" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

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
