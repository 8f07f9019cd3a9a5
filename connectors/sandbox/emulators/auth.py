"""Credentials and the auth flows the emulated systems use, shared so each system only wires them.

- `derive`: every credential is an HMAC of the server secret and the tenant, so the `serve` CLI can
  print a tenant's credentials and a restarted server still accepts them.
- `OAuth2Server`: access tokens that expire and refresh tokens that rotate (QuickBooks, Xero) plus the
  client-credentials grant (Business Central). Tokens are signed claims, so the only state is how far
  each tenant's refresh chain has moved: a used refresh token stops working, a newer one keeps working.
- `verify_oauth1`: NetSuite token-based auth (OAuth 1.0a, HMAC-SHA256, realm = account id), signature
  checked with oauthlib's RFC 5849 implementation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import orjson
from oauthlib.oauth1.rfc5849 import signature as oauth1_signature
from oauthlib.oauth1.rfc5849.utils import parse_authorization_header, unescape


def derive(secret: str, *parts: str, length: int = 32) -> str:
    """A hex credential for `parts` (system, tenant, purpose) under the server secret."""
    digest = hmac.new(secret.encode(), "/".join(parts).encode(), hashlib.sha256).hexdigest()
    return digest[:length]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Opaque bearer tokens carrying signed claims ('<base64 claims>.<base64 hmac>')."""

    def __init__(self, secret: str, purpose: str) -> None:
        self._key = hashlib.sha256(f"{secret}/{purpose}".encode()).digest()

    def sign(self, claims: dict[str, Any]) -> str:
        body = _b64(orjson.dumps(claims, option=orjson.OPT_SORT_KEYS))
        return f"{body}.{_b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())}"

    def open(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this signer made; None for anything else."""
        body, _, mac = token.partition(".")
        try:
            expected = _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())
            if not hmac.compare_digest(expected, mac):
                return None
            claims = orjson.loads(_unb64(body))
        except (ValueError, orjson.JSONDecodeError):
            return None
        return claims if isinstance(claims, dict) else None


class OAuthError(Exception):
    """An RFC 6749 token-endpoint error: `error` is the code the server answers ('invalid_grant')."""

    def __init__(self, error: str, status: int = 400) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


class AccessDenied(Exception):
    """An access token the resource server refuses; `reason` is 'expired' or 'invalid'."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TokenGrant:
    tenant: str
    access_token: str
    expires_in: int
    refresh_token: str | None = None


class OAuth2Server:
    """One system's authorization server: token issue, refresh rotation and access-token checks."""

    def __init__(
        self,
        system: str,
        secret: str,
        *,
        access_ttl: Callable[[], int] = lambda: 3600,
        timer: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.system = system
        self._signer = TokenSigner(secret, f"oauth2/{system}")
        self._access_ttl = access_ttl
        self._timer = timer
        self._next_generation: dict[str, int] = {}

    def initial_refresh_token(self, tenant: str) -> str:
        """The refresh token a tenant's connection starts from (handed out by tenant_credentials)."""
        return self._refresh_token(tenant, 0)

    def refresh(self, refresh_token: str) -> TokenGrant:
        """grant_type=refresh_token: a new access token and a new refresh token; the one used dies."""
        claims = self._signer.open(refresh_token)
        if not claims or claims.get("typ") != "refresh" or claims.get("sys") != self.system:
            raise OAuthError("invalid_grant")
        tenant, generation = claims["sub"], claims["gen"]
        if generation < self._next_generation.get(tenant, 0):
            raise OAuthError("invalid_grant")
        self._next_generation[tenant] = generation + 1
        grant = self.issue_access(tenant)
        return TokenGrant(tenant, grant.access_token, grant.expires_in, self._refresh_token(tenant, generation + 1))

    def issue_access(self, tenant: str) -> TokenGrant:
        """An access token for `tenant` (grant_type=client_credentials answers with just this)."""
        ttl = self._access_ttl()
        claims = {"typ": "access", "sys": self.system, "sub": tenant, "exp": self._timer() + ttl}
        return TokenGrant(tenant, self._signer.sign(claims), ttl)

    def verify(self, access_token: str) -> str:
        """The tenant an access token was issued for; AccessDenied if it is expired or not ours."""
        claims = self._signer.open(access_token)
        if not claims or claims.get("typ") != "access" or claims.get("sys") != self.system:
            raise AccessDenied("invalid")
        if self._timer() >= claims["exp"]:
            raise AccessDenied("expired")
        return claims["sub"]

    def _refresh_token(self, tenant: str, generation: int) -> str:
        return self._signer.sign({"typ": "refresh", "sys": self.system, "sub": tenant, "gen": generation})


class OAuth1Error(Exception):
    """A NetSuite token-based-auth request refused; the message says why."""


@dataclass(frozen=True)
class OAuth1Identity:
    realm: str
    consumer_key: str
    token: str


class OAuth1Verifier:
    """Checks OAuth 1.0a HMAC-SHA256 Authorization headers (NetSuite TBA): signature, clock skew, nonce reuse.

    `secrets(consumer_key, token)` returns (consumer_secret, token_secret), or None for unknown keys.
    """

    def __init__(
        self,
        secrets: Callable[[str, str], tuple[str, str] | None],
        *,
        timer: Callable[[], float],
        max_skew_seconds: float = 300.0,
    ) -> None:
        self._secrets = secrets
        self._timer = timer
        self._max_skew = max_skew_seconds
        self._seen_nonces: dict[tuple[str, str], float] = {}

    def verify(self, method: str, url: str, authorization: str | None, form_body: str | None = None) -> OAuth1Identity:
        """`url` is the absolute URL the client signed, query included; `form_body` a urlencoded body."""
        if not authorization or not authorization.lower().startswith("oauth "):
            raise OAuth1Error("no OAuth Authorization header")
        try:
            fields = {name: unescape(value) for name, value in parse_authorization_header(authorization)}
        except ValueError as error:
            raise OAuth1Error(f"malformed OAuth header: {error}") from error
        required = ("oauth_consumer_key", "oauth_token", "oauth_signature", "oauth_timestamp", "oauth_nonce")
        missing = [name for name in required if not fields.get(name)]
        if missing:
            raise OAuth1Error(f"OAuth header lacks {', '.join(missing)}")
        if fields.get("oauth_signature_method") != "HMAC-SHA256":
            raise OAuth1Error(f"signature method {fields.get('oauth_signature_method')!r} is not HMAC-SHA256")
        secrets = self._secrets(fields["oauth_consumer_key"], fields["oauth_token"])
        if secrets is None:
            raise OAuth1Error("unknown consumer key or token")
        now = self._timer()
        try:
            skew = abs(now - int(fields["oauth_timestamp"]))
        except ValueError as error:
            raise OAuth1Error("oauth_timestamp is not an integer") from error
        if skew > self._max_skew:
            raise OAuth1Error(f"oauth_timestamp is {skew:.0f} s away from the server clock")
        query = url.partition("?")[2]
        params = oauth1_signature.collect_parameters(
            uri_query=query, body=form_body, headers={"Authorization": authorization}
        )
        request = SimpleNamespace(
            params=params, uri=url, http_method=method.upper(), signature=fields["oauth_signature"]
        )
        if not oauth1_signature.verify_hmac_sha256(request, *secrets):
            raise OAuth1Error("signature does not match")
        nonce = (fields["oauth_consumer_key"], fields["oauth_nonce"])
        self._seen_nonces = {key: at for key, at in self._seen_nonces.items() if now - at <= self._max_skew}
        if nonce in self._seen_nonces:
            raise OAuth1Error("oauth_nonce was already used")
        self._seen_nonces[nonce] = now
        return OAuth1Identity(fields.get("realm", ""), fields["oauth_consumer_key"], fields["oauth_token"])
