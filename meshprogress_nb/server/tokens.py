"""Per-job callback tokens: itsdangerous-signed ``{mesh_id, job_id}``, valid for ``token_max_age`` seconds.

The seed compared the worker's token against a freshly generated one, which carries a new timestamp and so can
never match. Here the token is *verified* (signature checked in constant time by itsdangerous, then its age),
and its claims are compared with the job the callback names.

A worker sends the same token with every report, so verified tokens are remembered (bounded) until they
expire: a repeat costs a dictionary lookup instead of an HMAC and a JSON decode.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from itsdangerous import BadData, URLSafeTimedSerializer

SALT = "meshprogress.callback.v1"
REMEMBERED = 10_000


class InvalidToken(Exception):
    """Missing, malformed, expired or foreign token: every case gets the same answer (no oracle)."""


@dataclass(frozen=True)
class TokenClaims:
    mesh_id: int
    job_id: str


class CallbackTokens:
    """Signs and verifies callback tokens with the hub's shared secret."""

    def __init__(self, secret: str, max_age: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT)
        self._max_age = max_age
        self._verified: dict[str, tuple[TokenClaims, float]] = {}

    def issue(self, mesh_id: int, job_id: str) -> str:
        return self._serializer.dumps({"mesh_id": mesh_id, "job_id": job_id})

    def verify(self, token: str | None) -> TokenClaims:
        if not token or len(token) > 1024:
            raise InvalidToken
        known = self._verified.get(token)
        if known is not None:
            claims, expires = known
            if time.time() <= expires:
                return claims
            del self._verified[token]
            raise InvalidToken
        claims, signed_at = self._check(token)
        if len(self._verified) >= REMEMBERED:
            del self._verified[next(iter(self._verified))]  # the oldest remembered token
        self._verified[token] = (claims, signed_at + self._max_age)
        return claims

    def _check(self, token: str) -> tuple[TokenClaims, float]:
        """The claims of a token whose signature and age are valid, and when it was signed."""
        try:
            claims, signed_at = self._serializer.loads(token, max_age=self._max_age, return_timestamp=True)
        except BadData as exc:
            raise InvalidToken from exc
        if not isinstance(claims, dict):
            raise InvalidToken
        mesh_id, job_id = claims.get("mesh_id"), claims.get("job_id")
        if not isinstance(mesh_id, int) or isinstance(mesh_id, bool) or not isinstance(job_id, str):
            raise InvalidToken
        return TokenClaims(mesh_id=mesh_id, job_id=job_id), signed_at.timestamp()
