"""Callback tokens verify (the seed's check never could), expire, and name exactly one job."""

from __future__ import annotations

import time

import pytest

from meshprogress_nb.server import tokens as tokens_module
from meshprogress_nb.server.tokens import CallbackTokens, InvalidToken


def test_issued_token_verifies_to_its_claims() -> None:
    tokens = CallbackTokens("s3cret", max_age=60)
    claims = tokens.verify(tokens.issue(7, "job-7"))
    assert (claims.mesh_id, claims.job_id) == (7, "job-7")


@pytest.mark.parametrize("token", [None, "", "garbage", "a.b.c", "x" * 5000])
def test_malformed_tokens_are_refused(token: str | None) -> None:
    with pytest.raises(InvalidToken):
        CallbackTokens("s3cret", 60).verify(token)


def test_foreign_and_tampered_tokens_are_refused() -> None:
    ours, theirs = CallbackTokens("s3cret", 60), CallbackTokens("other", 60)
    with pytest.raises(InvalidToken):
        ours.verify(theirs.issue(7, "job-7"))
    token = ours.issue(7, "job-7")
    with pytest.raises(InvalidToken):
        ours.verify(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))


def test_expired_tokens_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = CallbackTokens("s3cret", max_age=10)
    token = tokens.issue(7, "job-7")
    real = time.time()
    monkeypatch.setattr(time, "time", lambda: real + 11)
    with pytest.raises(InvalidToken):
        tokens.verify(token)


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = CallbackTokens("s3cret", max_age=10)
    token = tokens.issue(7, "job-7")
    assert tokens.verify(token).job_id == "job-7"
    assert tokens.verify(token).job_id == "job-7"
    real = time.time()
    monkeypatch.setattr(time, "time", lambda: real + 12)
    with pytest.raises(InvalidToken):
        tokens.verify(token)


def test_a_remembered_token_vouches_for_no_other(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = CallbackTokens("s3cret", 60)
    token = tokens.issue(7, "job-7")
    tokens.verify(token)
    with pytest.raises(InvalidToken):
        tokens.verify(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    monkeypatch.setattr(tokens_module, "REMEMBERED", 3)
    for i in range(10):
        tokens.verify(tokens.issue(i, f"job-{i}"))
    assert len(tokens._verified) <= 3
