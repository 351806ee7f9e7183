"""Google credentials: one refresh for any number of waiting calls, off the event loop, before
expiry; the service-account and authorized-user flows offline (the emulator's /token); the
project taken from the credentials and the gateway root derived on the first call, as the SDK
does; failures translated; google-auth lazy."""

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
from clauderoute_google_cloud import GoogleCloudEmulator, GoogleCloudProvider
from google.auth.exceptions import RefreshError

import clauderoute as cr
from clauderoute.provider import CREATE, Call
from clauderoute.testing import loop_ticks, no_backoff

PARAMS = {"model": "claude-haiku-4-5", "max_tokens": 5,
          "messages": [{"role": "user", "content": "hi"}]}
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
WS = "wrkspc_01EmulatorWorkspace"


def _call() -> Call:
    return Call(operation=CREATE, params=dict(PARAMS))


def _utc_in(seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=seconds)


class CountingCredentials(google.auth.credentials.Credentials):  # type: ignore[misc]
    """google-auth's extension point: refresh() counts, blocks like a token round trip, and
    sets a token (accepted by ``emulator`` if given) valid for ``lifetime_s``."""

    def __init__(self, *, lifetime_s: float = 3600, delay_s: float = 0.0,
                 emulator: GoogleCloudEmulator | None = None) -> None:
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


def _file(tmp_path: Path, info: dict[str, Any]) -> str:
    path = tmp_path / "key.json"
    path.write_text(json.dumps(info))
    return str(path)


async def test_hundred_concurrent_prepares_refresh_once() -> None:
    """100 concurrent prepare() calls on a cold provider cause exactly one refresh."""
    creds = CountingCredentials(delay_s=0.05)
    p = GoogleCloudProvider(project="p", workspace_id=WS, credentials=creds)
    requests = await asyncio.gather(*(p.prepare(_call()) for _ in range(100)))
    assert creds.calls == 1
    assert {r.headers["authorization"] for r in requests} == {"Bearer ya29.counting-1"}
    await p.prepare(_call())
    assert creds.calls == 1  # still fresh: cached


async def test_refresh_runs_off_the_event_loop() -> None:
    """While google-auth's refresh blocks for 0.15 s, the event loop keeps running
    (~15 turns of the 10 ms ticker where 3 are asked for)."""
    p = GoogleCloudProvider(project="p", workspace_id=WS,
                            credentials=CountingCredentials(delay_s=0.15))
    _, ticks = await loop_ticks(p.prepare(_call()))
    assert ticks >= 3  # a refresh run in place would leave it at 0 or 1


async def test_a_cancelled_refresh_leaves_no_lock_behind() -> None:
    """A call cancelled while google-auth refreshes in a thread releases the lock: the next
    call gets a token."""
    creds = CountingCredentials(delay_s=0.2)
    p = GoogleCloudProvider(project="p", workspace_id=WS, credentials=creds)
    task = asyncio.create_task(p.prepare(_call()))
    while creds.calls == 0:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    req = await asyncio.wait_for(p.prepare(_call()), 5)
    assert req.headers["authorization"].startswith("Bearer ya29.counting-")


@pytest.mark.parametrize(("expiry_in", "refreshed"), [
    (-5, True), (120, True), (3600, False), (None, False)])
async def test_expiry_decides_refresh(expiry_in: float | None, refreshed: bool) -> None:
    """A token past expiry or inside the 300 s margin is refreshed; a fresh or non-expiring
    one is used as it is."""
    creds = CountingCredentials()
    creds.token = "ya29.preloaded"
    creds.expiry = None if expiry_in is None else _utc_in(expiry_in)
    p = GoogleCloudProvider(project="p", workspace_id=WS, credentials=creds)
    req = await p.prepare(_call())
    assert creds.calls == int(refreshed)
    expected = "ya29.counting-1" if refreshed else "ya29.preloaded"
    assert req.headers["authorization"] == "Bearer " + expected


async def test_project_from_credentials_derives_the_root(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """No project setting: a credentials object's project_id is read at construction; a key
    file's and ADC's on the first call, which then derives the gateway root (as the SDK
    back-fills the project). The token comes from the emulator's /token (JWT grant)."""
    creds = CountingCredentials()
    creds.project_id = "creds-proj"  # type: ignore[attr-defined]
    p = GoogleCloudProvider(workspace_id=WS, credentials=creds)
    assert p.base_url is not None and "/projects/creds-proj/" in p.base_url
    async with GoogleCloudEmulator(project="key-project", tokens=()) as emu:
        key = _file(tmp_path, emu.service_account_info("key-project"))
        p = GoogleCloudProvider(workspace_id=WS, location="us-east5", credentials_file=key)
        assert p.base_url is None
        req = await p.prepare(_call())
        assert req.url == ("https://claude.googleapis.com/v1/projects/key-project/locations/"
                           f"us-east5/workspaces/{WS}/invoke/v1/messages")
        assert p.project == "key-project" and emu.grants[0]["scope"] == SCOPE
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", key)
        adc = GoogleCloudProvider(workspace_id=WS)
        assert "/projects/key-project/" in (await adc.prepare(_call())).url
        assert repr(adc.auth) == "<GoogleAuth kind='google' source='adc'>"


async def test_service_account_key_file_full_flow(tmp_path: Path) -> None:
    """credentials_file: google-auth signs a JWT with the key, the emulator's /token verifies it
    and mints a token the gateway accepts; a token that expires inside the margin is renewed
    on each call."""
    async with GoogleCloudEmulator(project="key-project", tokens=(),
                                   token_lifetime_s=200) as emu:
        key = _file(tmp_path, emu.service_account_info("key-project"))
        p = GoogleCloudProvider(base_url=emu.url, credentials_file=key)
        async with cr.AsyncClient(providers=[p]) as client:
            for _ in range(3):
                msg = await client.messages.create(**PARAMS)
        assert msg.text == "Echo: hi" and len(emu.grants) == 3
        assert [r.headers["Authorization"] for r in emu.requests] == [
            "Bearer " + t for t in emu.minted]


async def test_key_the_token_endpoint_rejects(tmp_path: Path) -> None:
    """A key whose grants /token refuses (unknown to it): CredentialsError naming the
    google-auth error type, its cause chained, no key material or server text in ours."""
    async with GoogleCloudEmulator(tokens=()) as emu, \
            GoogleCloudEmulator(tokens=()) as other:
        info = other.service_account_info("p")
        info["token_uri"] = emu.root + "/token"
        p = GoogleCloudProvider(base_url=emu.url, credentials_file=_file(tmp_path, info))
        with pytest.raises(cr.CredentialsError, match="RefreshError") as info_:
            await p.prepare(_call())
    assert isinstance(info_.value.__cause__, RefreshError)
    assert "credentials_file" in str(info_.value) and "PRIVATE" not in str(info_.value)


async def test_a_key_file_is_honoured_only_by_its_own_emulator(tmp_path: Path) -> None:
    """Every emulator's service accounts share one RSA key (made once per process): a key file
    another emulator made for the same account is refused by its key id; the same file works
    where it was made."""
    async with GoogleCloudEmulator(tokens=()) as emu, GoogleCloudEmulator(tokens=()) as other:
        mine, theirs = emu.service_account_info("p"), other.service_account_info("p")
        assert mine["private_key"] == theirs["private_key"]
        assert mine["client_email"] == theirs["client_email"]
        theirs["token_uri"] = emu.root + "/token"
        p = GoogleCloudProvider(base_url=emu.url, credentials_file=_file(tmp_path, theirs))
        with pytest.raises(cr.CredentialsError, match="RefreshError"):
            await p.prepare(_call())
        assert emu.grants == []
        p = GoogleCloudProvider(base_url=emu.url, credentials_file=_file(tmp_path, mine))
        assert (await p.prepare(_call())).headers["authorization"] == "Bearer " + emu.minted[0]


async def test_unreachable_token_endpoint_fails_over(tmp_path: Path) -> None:
    """A token endpoint that refuses connections is a CredentialsError, so the router fails over
    to the next provider instead of giving up."""
    async with GoogleCloudEmulator(tokens=["ya29.static"]) as emu:
        info = emu.service_account_info("p")
        info["token_uri"] = "http://127.0.0.1:9/token"
        broken = GoogleCloudProvider(name="sa", base_url=emu.url, max_retries=0,
                                     credentials_file=_file(tmp_path, info))
        static = GoogleCloudProvider(name="static", base_url=emu.url,
                                     access_token="ya29.static")
        async with cr.AsyncClient(providers=[broken, static]) as client:
            with no_backoff():
                msg = await client.messages.create(**PARAMS)
        assert msg.route.provider == "static"
        assert msg.route.attempts[0].error == "CredentialsError"
        assert len(emu.requests) == 1


async def test_rejected_token_is_refreshed_next_call() -> None:
    """After the gateway rejects a cached token (revoked), the failed call is not retried but
    the next one refreshes first instead of reusing the token until its expiry."""
    async with GoogleCloudEmulator(tokens=()) as emu:
        creds = CountingCredentials(emulator=emu)
        p = GoogleCloudProvider(base_url=emu.url, credentials=creds)
        async with cr.AsyncClient(providers=[p]) as client:
            await client.messages.create(**PARAMS)
            emu.revoke_tokens()
            with pytest.raises(cr.AuthenticationError):
                await client.messages.create(**PARAMS)
            assert creds.calls == 1
            await client.messages.create(**PARAMS)
        assert creds.calls == 2


async def test_no_credentials_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ADC: a CredentialsError naming what to set, before any request."""
    monkeypatch.setenv("NO_GCE_CHECK", "True")  # google-auth: do not probe the metadata server
    with pytest.raises(cr.CredentialsError, match="GOOGLE_APPLICATION_CREDENTIALS"):
        await GoogleCloudProvider(project="p", workspace_id=WS).prepare(_call())


def test_google_auth_is_imported_lazily() -> None:
    """Building a provider imports no google module; the first refresh does."""
    code = ("import sys\nfrom clauderoute_google_cloud import GoogleCloudProvider\n"
            "p = GoogleCloudProvider(project='p', workspace_id='w')\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'google', 'requests'}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_missing_google_auth_gives_the_pip_line() -> None:
    """Without google-auth (its import blocked in a subprocess), the first call names the
    extra to install."""
    code = ("import asyncio, sys\nsys.modules['google.auth'] = None  # importing it now fails\n"
            "from clauderoute import CredentialsError\n"
            "from clauderoute.provider import Call\n"
            "from clauderoute_google_cloud import GoogleCloudProvider\n"
            "p = GoogleCloudProvider(project='p', workspace_id='w')\n"
            "call = Call(operation='messages.create', params={'model': 'm', 'max_tokens': 1,"
            " 'messages': []})\n"
            "try:\n    asyncio.run(p.prepare(call))\n"
            "except CredentialsError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ("google-cloud: Claude on Google Cloud needs "
                                  'google-auth[requests]; install it with: pip install '
                                  '"clauderoute[google-cloud]"')
