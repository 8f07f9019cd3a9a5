"""How a request proves who it is for: one small class per scheme the sources use.

An authenticator `sign`s each request (fetching a token through the same client when it has none or it
is about to expire) and is told to `renew` after a 401. A rotating refresh token is written back to its
secret file *before* the access token it bought is used, so a crash can never leave us holding only a
refresh token the server has already retired.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Protocol

import httpx
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256
from oauthlib.oauth1 import Client as OAuth1Client

from connectors.secrets import resolve_secret, write_secret_file

# oauthlib logs each signing's parameters (consumer key, token id) at DEBUG: keep credentials out of any log.
logging.getLogger("oauthlib").setLevel(logging.INFO)


class AuthError(Exception):
    """The source refused our credentials; the message names the connection, never a secret."""


class Authenticator(Protocol):
    async def sign(self, request: httpx.Request, client: httpx.AsyncClient) -> None: ...

    async def renew(self, request: httpx.Request, client: httpx.AsyncClient) -> bool:
        """After a 401 on `request`: get new credentials; False when there is nothing to renew."""
        ...


class ApiKeyAuth:
    """A static key in a header (Shopify's X-Shopify-Access-Token)."""

    def __init__(self, header: str, key: str) -> None:
        self._header, self._key = header, key

    async def sign(self, request: httpx.Request, client: httpx.AsyncClient) -> None:
        request.headers[self._header] = self._key

    async def renew(self, request: httpx.Request, client: httpx.AsyncClient) -> bool:
        return False


class OAuth2Auth:
    """A bearer token from an OAuth2 token endpoint: the refresh-token grant with rotation (QuickBooks,
    Xero) when `refresh_token_ref` is given, else the client-credentials grant (Business Central)."""

    margin_seconds = 60.0

    def __init__(
        self, token_url: str, client_id: str, client_secret: str, *, label: str,
        refresh_token_ref: str | None = None, scope: str | None = None, client_secret_in_body: bool = False,
    ) -> None:
        if refresh_token_ref is not None and not refresh_token_ref.startswith("file:"):
            raise AuthError(f"{label}: a rotating refresh token needs a file: reference (got {refresh_token_ref.split(':')[0]}:)")
        self._token_url, self._client_id, self._client_secret = token_url, client_id, client_secret
        self._label, self._refresh_ref, self._scope = label, refresh_token_ref, scope
        self._secret_in_body = client_secret_in_body  # client_secret_post (Entra ID) instead of HTTP Basic
        self._access: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def sign(self, request: httpx.Request, client: httpx.AsyncClient) -> None:
        if self._access is None or time.monotonic() >= self._expires_at:
            await self._fetch(client, stale=self._access)
        request.headers["Authorization"] = f"Bearer {self._access}"

    async def renew(self, request: httpx.Request, client: httpx.AsyncClient) -> bool:
        await self._fetch(client, stale=request.headers.get("Authorization", "").removeprefix("Bearer "))
        return True

    async def _fetch(self, client: httpx.AsyncClient, *, stale: str | None) -> None:
        async with self._lock:
            if self._access is not None and self._access != stale and time.monotonic() < self._expires_at:
                return  # renewed by a concurrent request while this one waited
            if self._refresh_ref is None:
                form = {"grant_type": "client_credentials"} | ({"scope": self._scope} if self._scope else {})
            else:
                form = {"grant_type": "refresh_token", "refresh_token": resolve_secret(self._refresh_ref).get_secret_value()}
            client_auth = None
            if self._secret_in_body:
                form |= {"client_id": self._client_id, "client_secret": self._client_secret}
            else:
                client_auth = httpx.BasicAuth(self._client_id, self._client_secret)
            response = await client.post(
                self._token_url, data=form, auth=client_auth, headers={"Accept": "application/json"},
            )
            if response.status_code != 200:
                raise AuthError(f"{self._label}: the token endpoint refused us ({response.status_code}): re-authorize the connection")
            answer = response.json()
            if self._refresh_ref is not None and answer.get("refresh_token"):
                write_secret_file(Path(self._refresh_ref.removeprefix("file:")), answer["refresh_token"])
            self._access = answer["access_token"]
            lifetime = float(answer.get("expires_in", 3600))
            # Renew a little early, but never so early that a short-lived token is refetched for every request.
            self._expires_at = time.monotonic() + lifetime - min(self.margin_seconds, lifetime / 4)


class NetSuiteTokenAuth:
    """NetSuite token-based authentication: OAuth 1.0a, HMAC-SHA256, the account id as realm; every
    request is signed afresh (new nonce and timestamp), including each retry."""

    def __init__(self, account_id: str, consumer_key: str, consumer_secret: str, token_id: str, token_secret: str) -> None:
        self._client = OAuth1Client(
            consumer_key, client_secret=consumer_secret, resource_owner_key=token_id,
            resource_owner_secret=token_secret, signature_method=SIGNATURE_HMAC_SHA256, realm=account_id,
        )

    async def sign(self, request: httpx.Request, client: httpx.AsyncClient) -> None:
        # The body of a SuiteQL POST is JSON, so it takes no part in the signature (only form bodies do).
        _, headers, _ = self._client.sign(str(request.url), http_method=request.method)
        request.headers["Authorization"] = headers["Authorization"]

    async def renew(self, request: httpx.Request, client: httpx.AsyncClient) -> bool:
        return False
