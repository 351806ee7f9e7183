"""Google credentials: one refresh for any number of waiting calls, off the event loop, before
expiry; the full service-account JWT flow offline; failures translated; google-auth lazy."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import google.auth.credentials
import google.auth.transport
import pytest
from clauderoute_vertex import VertexEmulator, VertexProvider
from clauderoute_vertex._auth import GoogleAuth
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.exceptions import RefreshError

import clauderoute as cr
from clauderoute._provider import CREATE, Call
from clauderoute.testing import loop_ticks, no_backoff

PARAMS = {"model": "claude-haiku-4-5", "max_tokens": 5,
          "messages": [{"role": "user", "content": "hi"}]}
SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def _call() -> Call:
    return Call(operation=CREATE, params=dict(PARAMS))


def _utc_in(seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=seconds)


class CountingCredentials(google.auth.credentials.Credentials):  # type: ignore[misc]
    """google-auth's extension point: refresh() counts, blocks like a token round trip, and
    sets a token (accepted by ``emulator`` if given) valid for ``lifetime_s``."""

    def __init__(self, *, lifetime_s: float = 3600, delay_s: float = 0.0,
                 emulator: VertexEmulator | None = None) -> None:
        super().__init__()
        self.lifetime_s, self.delay_s, self.emulator = lifetime_s, delay_s, emulator
        self.calls = 0
        self._mutex = threading.Lock()  # refresh runs on worker threads

    def refresh(self, request: Any) -> None:
        assert isinstance(request, google.auth.transport.Request)  # a real transport
        with self._mutex:
            self.calls += 1
            n = self.calls
        time.sleep(self.delay_s)
        self.token = f"ya29.counting-{n}"
        self.expiry = _utc_in(self.lifetime_s)
        if self.emulator is not None:
            self.emulator.accept_token(self.token, time.time() + self.lifetime_s)


def _key_file(tmp_path: Path, emu: VertexEmulator, *, register: bool = True,
              token_uri: str | None = None) -> Path:
    """A service-account key file made here with cryptography; its public half is given to the
    emulator only when ``register``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    email = "tester@key-project.iam.gserviceaccount.com"
    if register:
        emu.add_service_account(email, key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo).decode())
    info = {"type": "service_account", "project_id": "key-project", "private_key_id": "k1",
            "private_key": pem, "client_email": email, "client_id": "42",
            "token_uri": token_uri or emu.root + "/token"}
    path = tmp_path / "key.json"
    path.write_text(json.dumps(info))
    return path


async def test_hundred_concurrent_prepares_refresh_once() -> None:
    """100 concurrent prepare() calls on a cold provider cause exactly one refresh."""
    creds = CountingCredentials(delay_s=0.05)
    p = VertexProvider(project="p", region="global", credentials=creds)
    requests = await asyncio.gather(*(p.prepare(_call()) for _ in range(100)))
    assert creds.calls == 1
    assert {r.headers["authorization"] for r in requests} == {"Bearer ya29.counting-1"}
    await p.prepare(_call())
    assert creds.calls == 1  # still fresh: cached


async def test_refresh_runs_off_the_event_loop() -> None:
    """While google-auth's refresh blocks for 0.15 s, the event loop keeps running
    (~15 turns of the 10 ms ticker where 3 are asked for)."""
    p = VertexProvider(project="p", region="global",
                       credentials=CountingCredentials(delay_s=0.15))
    _, ticks = await loop_ticks(p.prepare(_call()))
    assert ticks >= 3  # a refresh run in place would leave it at 0 or 1


@pytest.mark.parametrize(("expiry_in", "refreshed"), [
    (-5, True),  # expired
    (120, True),  # inside the 300 s margin
    (3600, False),  # fresh
    (None, False),  # no expiry: google-auth's "never expires"
])
async def test_expiry_decides_refresh(expiry_in: float | None, refreshed: bool) -> None:
    """A token past expiry or inside the margin is refreshed; a fresh or non-expiring one is
    used as it is."""
    creds = CountingCredentials()
    creds.token = "ya29.preloaded"
    creds.expiry = None if expiry_in is None else _utc_in(expiry_in)
    req = await VertexProvider(project="p", region="global", credentials=creds).prepare(_call())
    assert creds.calls == int(refreshed)
    expected = "ya29.counting-1" if refreshed else "ya29.preloaded"
    assert req.headers["authorization"] == "Bearer " + expected


async def test_service_account_key_file_full_flow(tmp_path: Path) -> None:
    """credentials_file: google-auth signs a JWT with the key, the emulator's /token verifies it
    and mints a token Vertex accepts; the project comes from the file; a token that expires
    inside the margin is renewed on each call."""
    async with VertexEmulator(project="key-project", tokens=(), token_lifetime_s=200) as emu:
        p = VertexProvider(base_url=emu.url, region="global",
                           credentials_file=str(_key_file(tmp_path, emu)))
        assert repr(p.auth) == "<GoogleAuth kind='google' source='credentials_file'>"
        async with cr.AsyncClient(providers=[p]) as client:
            for _ in range(3):
                msg = await client.messages.create(**PARAMS)
        assert msg.text == "Echo: hi"
        assert len(emu.grants) == 3
        assert emu.grants[0]["iss"] == "tester@key-project.iam.gserviceaccount.com"
        assert emu.grants[0]["scope"] == SCOPE
        assert [r.headers["Authorization"] for r in emu.requests] == [
            "Bearer " + t for t in emu.minted]
        assert {r.path.split("/")[3] for r in emu.requests} == {"key-project"}


async def test_key_the_token_endpoint_rejects(tmp_path: Path) -> None:
    """A key whose signature does not verify: CredentialsError naming the google-auth error
    type, its cause chained, no key material or server text in ours."""
    async with VertexEmulator(tokens=()) as emu:
        path = _key_file(tmp_path, emu, register=False)
        p = VertexProvider(base_url=emu.url, region="global", credentials_file=str(path))
        with pytest.raises(cr.CredentialsError, match="RefreshError") as info:
            await p.prepare(_call())
    assert isinstance(info.value.__cause__, RefreshError)
    assert "credentials_file" in str(info.value)
    assert "Signature" not in str(info.value) and "PRIVATE" not in str(info.value)


async def test_a_key_file_is_honoured_only_by_its_own_emulator(tmp_path: Path) -> None:
    """Every emulator's service accounts share one RSA key (made once per process): a key file
    made by another emulator is still refused, since its account was never added here; the
    same file works where it was made."""
    async with VertexEmulator(project="p", tokens=()) as emu, \
            VertexEmulator(project="p", tokens=()) as other:
        mine, theirs = emu.service_account_info(), other.service_account_info()
        assert mine["private_key"] == theirs["private_key"]
        theirs["token_uri"] = emu.root + "/token"
        path = tmp_path / "key.json"
        path.write_text(json.dumps(theirs))
        p = VertexProvider(base_url=emu.url, region="global", credentials_file=str(path))
        with pytest.raises(cr.CredentialsError, match="RefreshError"):
            await p.prepare(_call())
        assert emu.grants == []
        path.write_text(json.dumps(mine))
        p = VertexProvider(base_url=emu.url, region="global", credentials_file=str(path))
        assert (await p.prepare(_call())).headers["authorization"] == "Bearer " + emu.minted[0]


async def test_unreachable_token_endpoint_fails_over(tmp_path: Path) -> None:
    """A token endpoint that refuses connections is a CredentialsError, so the router fails over to
    the next provider instead of giving up."""
    async with VertexEmulator(project="key-project", tokens=["ya29.static"]) as emu:
        path = _key_file(tmp_path, emu, token_uri="http://127.0.0.1:9/token")
        broken = VertexProvider(name="sa", base_url=emu.url, region="global",
                                credentials_file=str(path), max_retries=0)
        with pytest.raises(cr.CredentialsError):
            await broken.prepare(_call())
        static = VertexProvider(name="static", base_url=emu.url, region="global",
                                project="key-project", access_token="ya29.static")
        async with cr.AsyncClient(providers=[broken, static]) as client:
            with no_backoff():
                msg = await client.messages.create(**PARAMS)
        assert msg.route.provider == "static"
        assert msg.route.attempts[0].error == "CredentialsError"
        assert len(emu.requests) == 1


async def test_rejected_token_is_refreshed_next_call() -> None:
    """After Vertex rejects a cached token (revoked), the failed call is not retried but the
    next one refreshes first instead of reusing the token until its expiry."""
    async with VertexEmulator(project="p", tokens=()) as emu:
        creds = CountingCredentials(emulator=emu)
        p = VertexProvider(base_url=emu.url, project="p", region="global", credentials=creds)
        async with cr.AsyncClient(providers=[p]) as client:
            await client.messages.create(**PARAMS)
            emu.revoke_tokens()
            with pytest.raises(cr.AuthenticationError):
                await client.messages.create(**PARAMS)
            assert creds.calls == 1
            await client.messages.create(**PARAMS)
        assert creds.calls == 2
        assert [r.headers["Authorization"][-2:] for r in emu.requests] == ["-1", "-1", "-2"]


async def test_missing_credentials_and_project(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    """No ADC anywhere, a missing credentials_file, and credentials naming no project are
    errors naming what to set, raised before any Vertex request: CredentialsError for the
    first two (the platform is unavailable; a router fails over), ConfigurationError for the
    project."""
    monkeypatch.setenv("NO_GCE_CHECK", "True")  # google-auth: do not probe the metadata server
    with pytest.raises(cr.CredentialsError, match="GOOGLE_APPLICATION_CREDENTIALS"):
        await VertexProvider(project="p", region="global").prepare(_call())
    with pytest.raises(cr.CredentialsError, match="credentials_file"):
        await VertexProvider(project="p", region="global",
                             credentials_file=str(tmp_path / "absent.json")).prepare(_call())
    p = VertexProvider(region="global", credentials=CountingCredentials())
    with pytest.raises(cr.ConfigurationError, match="no project; set project"):
        await p.prepare(_call())


async def test_credentials_refresh_concurrently_across_providers() -> None:
    """Each GoogleAuth has its own lock: two providers sharing nothing refresh independently."""
    a, b = CountingCredentials(delay_s=0.05), CountingCredentials(delay_s=0.05)
    pa = VertexProvider(project="p", region="global", credentials=a)
    pb = VertexProvider(project="p", region="global", credentials=b)
    await asyncio.gather(*(p.prepare(_call()) for p in (pa, pb) for _ in range(10)))
    assert (a.calls, b.calls) == (1, 1)
    assert isinstance(pa.auth, GoogleAuth) and pa.auth.source == "credentials"


def test_google_auth_is_imported_lazily() -> None:
    """Building a provider imports no google module; the first refresh does."""
    code = ("import sys\nfrom clauderoute_vertex import VertexProvider\n"
            "p = VertexProvider(project='p', region='global')\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'google', 'requests'}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_missing_google_auth_gives_the_pip_line() -> None:
    """Without google-auth (its import blocked in a subprocess), the first call names the
    extra to install."""
    code = ("import asyncio, sys\nsys.modules['google.auth'] = None  # importing it now fails\n"
            "from clauderoute import CredentialsError\n"
            "from clauderoute._provider import Call\n"
            "from clauderoute_vertex import VertexProvider\n"
            "p = VertexProvider(project='p', region='global')\n"
            "call = Call(operation='messages.create', params={'model': 'm', 'max_tokens': 1,"
            " 'messages': []})\n"
            "try:\n    asyncio.run(p.prepare(call))\n"
            "except CredentialsError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ('vertex: Vertex AI needs google-auth[requests]; install it with: '
                                  'pip install "clauderoute[vertex]"')
