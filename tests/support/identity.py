"""A jupyter-server IdentityProvider that maps fixed tokens to distinct users, for two-identity tests."""

from __future__ import annotations

from jupyter_server.auth.identity import IdentityProvider, User

COOKIE = "meshprogress-test-user"
TOKENS = {"alice-token": "alice", "bob-token": "bob", "admin-token": "admin"}


class TokensIdentityProvider(IdentityProvider):
    """``Authorization: token alice-token`` (or ``?token=alice-token``) is alice; bob's token is bob."""

    def get_user(self, handler):  # noqa: ANN001, ANN201 - jupyter-server's signature
        token = self.get_token(handler)
        name = TOKENS.get(token or "")
        if name is None:
            # A browser-like session: cookie-authenticated requests get Jupyter's origin and XSRF checks.
            cookie = handler.get_cookie(COOKIE)
            if cookie in TOKENS.values():
                return User(username=cookie, name=cookie, display_name=cookie)
            return super().get_user(handler)
        handler._token_authenticated = True  # as the default provider does: token requests need no XSRF
        return User(username=name, name=name, display_name=name)
