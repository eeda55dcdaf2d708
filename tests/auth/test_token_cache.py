"""Verified tokens are remembered until they expire, and never past that."""

from __future__ import annotations

import time

import pytest

from domain.access import Caller
from domain.errors import Unauthenticated
from domain.values import Role
from riskgate.auth import TokenVerifier, mint_token
from tests.support.settings import make_settings

SETTINGS = make_settings("sqlite+aiosqlite:///unused.db")


class Counting(TokenVerifier):
    def __init__(self) -> None:
        super().__init__(SETTINGS)
        self.decoded = 0

    def verify(self, token: str) -> tuple[Caller, int]:
        self.decoded += 1
        return super().verify(token)


def test_a_valid_token_is_verified_once_until_it_expires() -> None:
    verifier = Counting()
    token = mint_token(SETTINGS, sub="alice", role=Role.CLIENT, ttl_seconds=600)
    first = verifier.from_header(f"Bearer {token}")
    assert verifier.from_header(f"Bearer {token}") == first
    assert first[0] == Caller("alice", Role.CLIENT)
    assert verifier.decoded == 1


def test_past_its_expiry_a_remembered_token_is_verified_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verifier = Counting()
    token = mint_token(SETTINGS, sub="alice", role=Role.CLIENT, ttl_seconds=60)
    _, expires_at = verifier.from_header(f"Bearer {token}")
    # The cache's clock past the expiry: the remembered answer no longer counts, and the
    # token goes through full verification (which applies its own clock and leeway).
    monkeypatch.setattr(time, "time", lambda: expires_at + 1)
    verifier.from_header(f"Bearer {token}")
    assert verifier.decoded == 2


def test_refused_tokens_are_not_remembered() -> None:
    verifier = Counting()
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            verifier.from_header("Bearer not-a-token")
    assert verifier.decoded == 2
