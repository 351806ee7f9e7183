"""clauderoute.testing.GoogleTokenEndpoint on a minimal emulator of its own, driven by google-auth's
real service-account credentials over loopback: grants honoured or refused as Google's endpoint
answers them, and the bearer tokens minted accepted, expired and revoked."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from typing import Any

import aiohttp
import google.auth.crypt
import google.auth.jwt
import pytest
from aiohttp import web
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request
from google.oauth2 import service_account

from clauderoute.testing import EmulatorServer, GoogleTokenEndpoint, rsa_key_pair
from clauderoute.testing._google_token import BAD_TOKEN

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
EMAIL = "tester@p.iam.gserviceaccount.com"
BAD_SIGNATURE = {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
BAD_GRANT_TYPE = {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."}


class TokenEmulator(GoogleTokenEndpoint, EmulatorServer):
    """The mixin and one protected path, ``GET /whoami``: 200 with a token ``/token`` minted or
    ``accept_token`` accepted, else 401."""

    def __init__(self, *, tokens: tuple[str, ...] = (), lifetime_s: float = 3600.0) -> None:
        super().__init__()
        self.init_token_endpoint(tokens, lifetime_s)

    def routes(self) -> list[web.RouteDef]:
        return [*self.token_routes(), web.get("/whoami", self._whoami),
                web.get("/front", self._front)]  # fmt: skip

    async def _whoami(self, request: web.Request) -> web.Response:
        return web.Response(status=401 if self.bearer_refused(request) else 200)

    async def _front(self, request: web.Request) -> web.Response:
        """As an emulator's ``check_auth`` uses ``token_refusal``; ``?say=`` its message."""
        say = request.query.get("say")
        refusal = self.token_refusal(request) if say is None else self.token_refusal(request, say)
        return refusal or web.Response(status=200, text="in")


async def _refresh(info: dict[str, Any]) -> Any:
    """google-auth's service-account credentials from ``info``, refreshed through its requests
    transport (blocking, so on a worker thread while the emulator serves on this loop)."""
    creds: Any = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
        info, scopes=[SCOPE]
    )
    await asyncio.to_thread(creds.refresh, Request())
    return creds


async def _status(emu: TokenEmulator, token: str | None) -> int:
    headers = {} if token is None else {"Authorization": "Bearer " + token}
    async with (
        aiohttp.ClientSession() as http,
        http.get(emu.root + "/whoami", headers=headers) as resp,
    ):
        return resp.status


async def _post_token(emu: TokenEmulator, form: dict[str, str]) -> tuple[int, str, Any]:
    async with aiohttp.ClientSession() as http, http.post(emu.root + "/token", data=form) as resp:
        return resp.status, resp.content_type, json.loads(await resp.read())


def _assertion(info: dict[str, Any], audience: str) -> str:
    """A JWT-bearer grant signed with ``info``'s key and carrying its key id, as google-auth
    makes one."""
    signer: Any = google.auth.crypt.RSASigner.from_service_account_info(info)  # type: ignore[no-untyped-call]
    now = int(time.time())
    payload = {"iss": info["client_email"], "aud": audience, "scope": SCOPE,
               "iat": now, "exp": now + 600}  # fmt: skip
    encoded: bytes = google.auth.jwt.encode(signer, payload)  # type: ignore[no-untyped-call]
    return encoded.decode()


async def test_a_good_grant_mints_a_token_the_front_end_accepts() -> None:
    """google-auth's grant from a key file made here gets a Bearer token with the configured
    lifetime; the claims and the token are recorded; the token passes ``bearer_refused`` until
    ``revoke_tokens``; tokens given at start and by ``accept_token`` pass too, an expired one
    does not."""
    async with TokenEmulator(tokens=("static",), lifetime_s=200.0) as emu:
        info = emu.service_account_key("p", EMAIL)
        assert info["project_id"] == "p" and info["token_uri"] == emu.root + "/token"
        creds = await _refresh(info)
        assert emu.minted == [creds.token] and creds.token.startswith("ya29.emu-1-")
        assert emu.grants[0]["iss"] == EMAIL and emu.grants[0]["scope"] == SCOPE
        left = creds.expiry - dt.datetime.now(dt.UTC).replace(tzinfo=None)  # naive UTC
        assert 100 < left.total_seconds() <= 200  # expires_in: the lifetime given
        assert await _status(emu, creds.token) == 200
        assert await _status(emu, "static") == 200
        assert await _status(emu, None) == 401 and await _status(emu, "ya29.other") == 401
        emu.accept_token("later", time.time() + 60)
        emu.accept_token("gone", time.time() - 1)
        assert await _status(emu, "later") == 200 and await _status(emu, "gone") == 401
        emu.revoke_tokens()
        assert [await _status(emu, t) for t in (creds.token, "static", "later")] == [401] * 3


async def test_a_grant_with_another_key_files_kid_is_refused() -> None:
    """Every key file shares the process's RSA key: the grant of a key file made by another
    emulator (its kid unknown here) is refused with Google's invalid_grant, as is the grant of
    a key file replaced by a later one for the same account; the one made here still works."""
    async with TokenEmulator() as emu, TokenEmulator() as other:
        theirs = other.service_account_key("p", EMAIL)
        stale = emu.service_account_key("p", EMAIL)
        mine = emu.service_account_key("p", EMAIL)
        assert theirs["private_key"] == mine["private_key"] == stale["private_key"]
        for info in (theirs, stale):
            info["token_uri"] = emu.root + "/token"
            with pytest.raises(RefreshError) as refused:
                await _refresh(info)
            assert refused.value.args[1] == BAD_SIGNATURE
            assert await _post_token(
                emu,
                {
                    "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                    "assertion": _assertion(info, "https://oauth2.googleapis.com/token"),
                },
            ) == (400, "application/json", BAD_SIGNATURE)
        assert emu.grants == [] and emu.minted == []
        creds = await _refresh(mine)
        assert emu.minted == [creds.token]


async def test_a_key_added_without_a_key_id_takes_any_kid() -> None:
    """``add_service_account`` without ``key_id`` honours the account's grants whatever their
    kid; with one, only that kid; a grant for another audience or an unknown account is
    refused."""
    private, public = rsa_key_pair()
    info = {"type": "service_account", "project_id": "p", "private_key_id": "k1",
            "private_key": private, "client_email": EMAIL, "client_id": "42"}  # fmt: skip
    async with TokenEmulator() as emu:
        info["token_uri"] = emu.root + "/token"
        grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
        here = _assertion(info, emu.root + "/token")
        assert (await _post_token(emu, {"grant_type": grant, "assertion": here}))[
            2
        ] == BAD_SIGNATURE
        emu.add_service_account(EMAIL, public)
        assert (await _refresh(info)).token == emu.minted[0]
        status, _, body = await _post_token(emu, {"grant_type": grant, "assertion": here})
        assert status == 200 and body["access_token"] == emu.minted[1]
        assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
        elsewhere = _assertion(info, "https://example.com/token")
        assert (await _post_token(emu, {"grant_type": grant, "assertion": elsewhere}))[2] == (
            BAD_SIGNATURE
        )
        emu.add_service_account(EMAIL, public, key_id="k2")
        assert (await _post_token(emu, {"grant_type": grant, "assertion": here}))[
            2
        ] == BAD_SIGNATURE
        assert len(emu.grants) == 2


@pytest.mark.parametrize("form", [
    {"grant_type": "refresh_token", "assertion": "x.y.z"},
    {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"},
    {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": ""},
    {},
])  # fmt: skip
async def test_another_grant_type_is_refused(form: dict[str, str]) -> None:
    """Another grant type, or the JWT-bearer one without an assertion: Google's 400
    unsupported_grant_type, nothing minted."""
    async with TokenEmulator() as emu:
        assert await _post_token(emu, form) == (400, "application/json", BAD_GRANT_TYPE)
        assert emu.grants == [] and emu.minted == []


async def _front(emu: TokenEmulator, auth: str | None, query: str = "") -> tuple[int, Any, Any]:
    headers = {} if auth is None else {"Authorization": auth}
    async with (
        aiohttp.ClientSession() as http,
        http.get(emu.root + "/front" + query, headers=headers) as resp,
    ):
        body = await resp.read()
        return resp.status, resp.headers.get("www-authenticate"), body


@pytest.mark.parametrize("auth", [None, "", "Bearer", "Bearer nope", "bearer good", "Basic good",
                                  "Bearer  good", "Bearer good,x", "Bearer " + "g" * 7000])  # fmt: skip
async def test_token_refusal_is_googles_401_for_any_token_not_accepted(auth: str | None) -> None:
    """No token, an unknown one, the right one with another scheme or spacing, an absurdly long
    one: Google's 401 body and challenge; the accepted token alone passes."""
    async with TokenEmulator(tokens=("good",)) as emu:
        status, challenge, body = await _front(emu, auth)
        assert status == 401
        assert challenge == 'Bearer realm="https://accounts.google.com/"'
        assert json.loads(body) == {
            "error": {"code": 401, "message": BAD_TOKEN, "status": "UNAUTHENTICATED"}
        }
        assert await _front(emu, "Bearer good") == (200, None, b"in")


async def test_token_refusal_says_the_emulators_own_message_and_expiry_counts() -> None:
    async with TokenEmulator(tokens=("good",)) as emu:
        emu.accept_token("stale", expires_on=time.time() - 1)
        status, _, body = await _front(emu, "Bearer stale", "?say=See+the+docs.")
        assert (status, json.loads(body)["error"]["message"]) == (401, "See the docs.")
        emu.revoke_tokens()
        assert (await _front(emu, "Bearer good"))[0] == 401
