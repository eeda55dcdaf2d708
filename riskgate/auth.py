"""JWT verification and minting. Algorithms come from configuration, never from the token."""

from __future__ import annotations

import time
from typing import Any

import jwt

from domain.access import Caller
from domain.errors import Unauthenticated
from domain.profile import CLIENT_ID_PATTERN
from domain.values import Role
from riskgate.settings import Settings

REQUIRED_CLAIMS = ["sub", "role", "exp", "iat"]
# Times must be JSON numbers: PyJWT would also take a string of digits.
NUMERIC_CLAIMS = ("exp", "iat", "nbf")
LEEWAY_SECONDS = 10
VERIFIED_CACHE_SIZE = 10_000  # tokens; the oldest is dropped first


class TokenVerifier:
    """Verifies bearer tokens against the configured key, algorithm, issuer and audience."""

    def __init__(self, settings: Settings) -> None:
        self._algorithm = settings.jwt_algorithm
        if self._algorithm.startswith("HS"):
            self._key: str = settings.signing_secret
        else:
            if not settings.jwt_public_key:
                raise ValueError("RISKGATE_JWT_PUBLIC_KEY is required for RS* algorithms")
            self._key = settings.jwt_public_key
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._verified: dict[str, tuple[Caller, int]] = {}

    def verify(self, token: str) -> tuple[Caller, int]:
        """The caller and the token's expiry (epoch seconds); Unauthenticated otherwise."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=[self._algorithm],
                issuer=self._issuer,
                audience=self._audience,
                leeway=LEEWAY_SECONDS,
                options={
                    "require": REQUIRED_CLAIMS
                    + (["iss"] if self._issuer else [])
                    + (["aud"] if self._audience else []),
                    "verify_aud": self._audience is not None,
                },
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired") from None
        except jwt.PyJWTError:
            raise Unauthenticated("the token is not valid") from None
        for name in NUMERIC_CLAIMS:
            value = claims.get(name)
            if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise Unauthenticated(f"the token's {name} claim must be a number")
        sub, role = claims.get("sub"), claims.get("role")
        if not isinstance(sub, str) or not sub or len(sub) > 128:
            raise Unauthenticated("the token has no valid subject")
        try:
            parsed_role = Role(str(role))
        except ValueError:
            raise Unauthenticated("the token has no valid role") from None
        if parsed_role is Role.CLIENT and not CLIENT_ID_PATTERN.match(sub):
            raise Unauthenticated("the token's subject is not a valid client id")
        return Caller(sub, parsed_role), int(claims["exp"])

    def from_header(self, header: str | None) -> tuple[Caller, int]:
        if not header:
            raise Unauthenticated("a bearer token is required")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
        return self.verify_cached(token.strip())

    def verify_cached(self, token: str) -> tuple[Caller, int]:
        """`verify`, remembered until the token's expiry: a token valid once stays valid
        until then (the claims cannot change without changing the token)."""
        found = self._verified.get(token)
        if found is not None:
            if time.time() < found[1]:
                return found
            del self._verified[token]
        found = self.verify(token)
        if time.time() < found[1]:
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                del self._verified[next(iter(self._verified))]
            self._verified[token] = found
        return found


def mint_token(settings: Settings, *, sub: str, role: Role, ttl_seconds: int = 3600) -> str:
    """A signed HS token with the configured secret (for operators, demos and tests)."""
    if not settings.jwt_algorithm.startswith("HS"):
        raise ValueError("tokens can only be minted with an HS* secret")
    now = int(time.time())
    claims: dict[str, Any] = {"sub": sub, "role": role.value, "iat": now, "exp": now + ttl_seconds}
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, settings.signing_secret, algorithm=settings.jwt_algorithm)
