"""Microsoft Entra ID credentials: one token fetch for any number of waiting calls, refresh
before expiry, off-loop fetching, every credential form, and the missing-extra message."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import time
from typing import Any

import pytest
from azure.core.credentials import AccessToken, TokenCredential
from azure.core.exceptions import ClientAuthenticationError
from clauderoute_foundry import EmulatorCredential, FoundryEmulator, FoundryProvider
from clauderoute_foundry._auth import ENTRA_SCOPE, EntraAuth

import clauderoute as cr
from clauderoute._provider import CREATE, Call
from clauderoute.testing import loop_ticks

PARAMS = {"model": "claude-haiku-4-5", "max_tokens": 5,
          "messages": [{"role": "user", "content": "hi"}]}


def _call() -> Call:
    return Call(operation=CREATE, params=dict(PARAMS))


def _jwt(exp: float) -> str:
    payload = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).rstrip(b"=")
    return "eyJhbGciOiJub25lIn0." + payload.decode() + ".sig"


class ScriptedCredential:
    """A TokenCredential returning the given (token, expires_on) pairs in turn."""

    def __init__(self, *tokens: tuple[str, float]) -> None:
        self.tokens = list(tokens)
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        token, expires = self.tokens[min(self.calls, len(self.tokens) - 1)]
        self.calls += 1
        return AccessToken(token, int(expires))


async def test_hundred_concurrent_prepares_fetch_one_token() -> None:
    """100 concurrent prepare() calls on a cold provider cause exactly one get_token."""
    cred = EmulatorCredential(FoundryEmulator(), delay_s=0.05)
    assert isinstance(cred, TokenCredential)  # azure-core's protocol, not a stand-in
    p = FoundryProvider(resource="r", credential=cred)
    requests = await asyncio.gather(*(p.prepare(_call()) for _ in range(100)))
    assert cred.calls == 1
    assert cred.scopes == [(ENTRA_SCOPE,)]
    assert len({r.headers["authorization"] for r in requests}) == 1
    await p.prepare(_call())
    assert cred.calls == 1  # still fresh: cached


async def test_sync_credential_runs_off_the_event_loop() -> None:
    """While a synchronous credential blocks for 0.15 s, the event loop keeps running
    (~15 turns of the 10 ms ticker where 3 are asked for)."""
    cred = EmulatorCredential(FoundryEmulator(), delay_s=0.15)
    p = FoundryProvider(resource="r", credential=cred)
    _, ticks = await loop_ticks(p.prepare(_call()))
    assert ticks >= 3  # a refresh run in place would leave it at 0 or 1


async def test_token_refreshed_before_and_after_expiry() -> None:
    """A token inside the 300 s margin, or past expiry, is fetched again; a fresh one is not."""
    now = time.time()
    cred = ScriptedCredential(("tok-near", now + 120), ("tok-fresh", now + 3600))
    p = FoundryProvider(resource="r", credential=cred)
    first = await p.prepare(_call())
    second = await p.prepare(_call())
    third = await p.prepare(_call())
    assert first.headers["authorization"] == "Bearer tok-near"
    assert second.headers["authorization"] == third.headers["authorization"] == "Bearer tok-fresh"
    assert cred.calls == 2
    expired = ScriptedCredential(("tok-old", now - 5), ("tok-new", now + 3600))
    auth = EntraAuth(expired, margin_s=0)
    await auth.refresh()
    await auth.refresh()
    assert expired.calls == 2


async def test_expiring_tokens_against_the_emulator() -> None:
    """End to end: short-lived tokens are renewed per call and the front door accepts each."""
    async with FoundryEmulator(api_key=None) as emu:
        short = EmulatorCredential(emu, lifetime_s=200)  # inside the refresh margin
        provider = FoundryProvider(base_url=emu.url, credential=short)
        async with cr.AsyncClient(providers=[provider]) as client:
            for _ in range(3):
                await client.messages.create(**PARAMS)
        assert short.calls == 3
        tokens = {r.headers["Authorization"] for r in emu.requests}
        assert len(tokens) == 3


async def test_rejected_token_is_not_reused() -> None:
    """After the front door rejects a cached token (revoked), the next call fetches a new one."""
    async with FoundryEmulator(api_key=None) as emu:
        cred = EmulatorCredential(emu)
        provider = FoundryProvider(base_url=emu.url, credential=cred)
        async with cr.AsyncClient(providers=[provider]) as client:
            await client.messages.create(**PARAMS)
            emu.revoke_tokens()
            with pytest.raises(cr.AuthenticationError):
                await client.messages.create(**PARAMS)
            assert cred.calls == 1
            await client.messages.create(**PARAMS)
        assert cred.calls == 2
        assert [r.headers["Authorization"] for r in emu.requests].count(
            emu.requests[0].headers["Authorization"]) == 2


async def test_async_credential_and_token_provider_callables() -> None:
    """An AsyncTokenCredential is awaited; callables (sync or async) give the bearer token and a
    JWT's exp decides how long it is reused."""
    class AsyncCred:
        calls = 0

        async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            AsyncCred.calls += 1
            return AccessToken("async-tok", int(time.time() + 3600))

    p = FoundryProvider(resource="r", credential=AsyncCred())
    assert (await p.prepare(_call())).headers["authorization"] == "Bearer async-tok"
    await p.prepare(_call())
    assert AsyncCred.calls == 1
    jwt, n = _jwt(time.time() + 3600), [0]

    def provider() -> str:
        n[0] += 1
        return jwt

    p = FoundryProvider(resource="r", credential=provider)
    for _ in range(3):
        assert (await p.prepare(_call())).headers["authorization"] == "Bearer " + jwt
    assert n[0] == 1  # reused until exp

    async def opaque() -> str:
        n[0] += 1
        return "opaque-token"

    p = FoundryProvider(resource="r", credential=opaque)
    await p.prepare(_call())
    await p.prepare(_call())
    assert n[0] == 3  # no readable expiry: asked every time


async def test_credential_failure_is_translated() -> None:
    """A failing credential raises CredentialsError naming the error type, the cause chained."""
    class Broken:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            raise ClientAuthenticationError("AADSTS7000215: Invalid client secret provided.")

    p = FoundryProvider(resource="r", credential=Broken())
    with pytest.raises(cr.CredentialsError, match="ClientAuthenticationError") as info:
        await p.prepare(_call())
    assert isinstance(info.value.__cause__, ClientAuthenticationError)
    assert "AADSTS" not in str(info.value)
    with pytest.raises(cr.CredentialsError, match="no token string"):
        await FoundryProvider(resource="r", credential=lambda: "").prepare(_call())


def test_entra_uses_default_azure_credential_lazily() -> None:
    """entra = true builds azure-identity's DefaultAzureCredential, imported only then."""
    code = ("import sys\nfrom clauderoute_foundry import FoundryProvider\n"
            "assert 'azure' not in {m.split('.')[0] for m in sys.modules}, 'azure imported'\n"
            "p = FoundryProvider(resource='r', entra=True)\n"
            "print(type(p.auth._source).__name__, repr(p.auth))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "DefaultAzureCredential <EntraAuth kind='entra'>"


def test_missing_azure_identity_gives_the_pip_line() -> None:
    """Without azure-identity (its import blocked in a subprocess), entra = true names the extra."""
    code = ("import sys\nsys.modules['azure.identity'] = None  # importing it now fails\n"
            "from clauderoute import ConfigurationError\n"
            "from clauderoute_foundry import FoundryProvider\n"
            "try:\n    FoundryProvider(resource='r', entra=True)\n"
            "except ConfigurationError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ('entra = true needs azure-identity; install it with: '
                                  'pip install "clauderoute-foundry[entra]"')
