"""Credentials over loopback: boto3's chain (env, a profile file), temporary credentials that
botocore refreshes (one refresh for 100 concurrent calls, off the event loop), and the
emulator's botocore-verified SigV4 rejecting bad signatures, wrong regions, expired dates,
missing session tokens and altered bodies in Bedrock's 403 shape."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from botocore.credentials import RefreshableCredentials
from clauderoute_bedrock import BedrockEmulator, BedrockProvider
from clauderoute_bedrock.emulator import ACCESS_KEY, SECRET_KEY, AwsKey

import clauderoute as cr
from clauderoute._errors import CredentialsError, PermissionDeniedError
from clauderoute._provider import CREATE, Call
from clauderoute._retry import no_backoff

MESSAGES = [{"role": "user", "content": "Hello there, Claude"}]
NEW_KEY, NEW_SECRET, NEW_TOKEN = "ASIAREFRESHED0000001", "refreshed/secret+1", "refreshed-token"


def _iso(seconds: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).isoformat()


async def _create(provider: BedrockProvider) -> Any:
    async with cr.AsyncClient(providers=[provider]) as client:
        with no_backoff():
            return await client.messages.create(model="claude-sonnet-4-5", max_tokens=16,
                                                messages=MESSAGES)


async def test_hundred_concurrent_calls_one_refresh() -> None:
    """Credentials botocore says are near expiry are refreshed once, in a worker thread, for
    100 concurrent calls; all 100 are signed with the new keys (the emulator accepts only
    those)."""
    calls: list[str] = []

    def refresh() -> dict[str, str]:
        calls.append(threading.current_thread().name)
        time.sleep(0.05)  # an STS round trip; the event loop must not wait on it
        return {"access_key": NEW_KEY, "secret_key": NEW_SECRET, "token": NEW_TOKEN,
                "expiry_time": _iso(3600)}

    creds = RefreshableCredentials.create_from_metadata(
        {"access_key": "ASIAOLD", "secret_key": "old", "token": "old", "expiry_time": _iso(60)},
        refresh_using=refresh, method="test-sts")
    async with BedrockEmulator(keys={NEW_KEY: AwsKey(NEW_SECRET, NEW_TOKEN)}) as emu:
        provider = BedrockProvider(base_url=emu.url, credentials=creds)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while not calls or len(emu.requests) < 100:
                ticks += 1
                await asyncio.sleep(0.005)

        async with cr.AsyncClient(providers=[provider]) as client:
            tick = asyncio.create_task(ticker())
            results = await asyncio.gather(*(client.messages.create(
                model="claude-sonnet-4-5", max_tokens=8, messages=MESSAGES)
                for _ in range(100)))
            await tick
        assert all(m.text.startswith("Echo:") for m in results)
        assert len(calls) == 1 and calls[0] != threading.main_thread().name
        assert ticks > 1  # the loop ran while the refresh slept in its thread
        assert {r.headers["X-Amz-Security-Token"] for r in emu.requests} == {NEW_TOKEN}


async def test_profile_from_shared_credentials_file(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """profile= reads boto3's shared credentials file (and its region from the config file)."""
    (tmp_path / "credentials").write_text(
        f"[dev]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n")
    (tmp_path / "config").write_text("[profile dev]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    async with BedrockEmulator() as emu:
        provider = BedrockProvider(base_url=emu.url, profile="dev")
        assert provider.region == "us-east-1"
        assert (await _create(provider)).text == "Echo: Hello there, Claude"


async def test_no_credentials_is_a_credentials_error() -> None:
    """An empty chain fails with CredentialsError (the platform is unavailable: a router fails
    over) naming the ways to configure one."""
    async with BedrockEmulator() as emu:
        provider = BedrockProvider(base_url=emu.url, region="us-east-1")
        with pytest.raises(CredentialsError, match="no AWS credentials"):
            await provider.prepare(Call(operation=CREATE, params={
                "model": "m", "max_tokens": 1, "messages": MESSAGES}))
        assert emu.requests == []


@pytest.mark.parametrize(("settings", "emu_settings", "name", "text"), [
    ({"secret_key": "wrong"}, {}, "InvalidSignatureException", "signature we calculated"),
    ({"region": "us-west-2"}, {}, "InvalidSignatureException", "valid region"),
    ({}, {"clock": lambda: time.time() + 3600}, "InvalidSignatureException",
     "Signature expired"),
    ({"access_key": "ASIATEMP"}, {"keys": {"ASIATEMP": AwsKey(SECRET_KEY, "tok")}},
     "UnrecognizedClientException", "security token included in the request is invalid"),
    ({"access_key": "AKIAUNKNOWN"}, {}, "UnrecognizedClientException", "security token"),
])
async def test_signature_rejections(settings: dict[str, Any], emu_settings: dict[str, Any],
                                    name: str, text: str) -> None:
    """Each SigV4 failure is a 403 in Bedrock's shape: PermissionDeniedError, fatal, named."""
    kw: dict[str, Any] = {"region": "us-east-1", "access_key": ACCESS_KEY,
                          "secret_key": SECRET_KEY, **settings}
    async with BedrockEmulator(**emu_settings) as emu:
        with pytest.raises(PermissionDeniedError) as info:
            await _create(BedrockProvider(base_url=emu.url, **kw))
        assert len(emu.requests) == 1
    assert (info.value.status, info.value.error_type) == (403, name)
    assert text in str(info.value)


async def test_altered_body_and_raw_shape() -> None:
    """A body changed after signing fails verification; the answer is AWS's shape:
    x-amzn-ErrorType and {"message"}, with x-amzn-RequestId."""
    async with BedrockEmulator() as emu:
        provider = BedrockProvider(base_url=emu.url, access_key=ACCESS_KEY,
                                   secret_key=SECRET_KEY)
        req = await provider.prepare(Call(operation=CREATE, params={
            "model": "claude-sonnet-4-5", "max_tokens": 5, "messages": MESSAGES}))
        async with aiohttp.ClientSession() as session:
            async with session.post(req.url, headers=req.headers, data=req.body) as ok:
                assert ok.status == 200
            async with session.post(req.url, headers=req.headers,
                                    data=req.body.replace(b"Hello", b"Howdy")) as bad:
                assert bad.status == 403
                assert bad.headers["x-amzn-ErrorType"].startswith("InvalidSignatureException:")
                assert "x-amzn-RequestId" in bad.headers
                assert set(await bad.json()) == {"message"}
            async with session.post(req.url, headers={"content-type": "application/json"},
                                    data=req.body) as missing:
                assert missing.headers["x-amzn-ErrorType"].startswith(
                    "MissingAuthenticationTokenException")


async def test_rotated_secrets_and_a_new_day_sign_with_new_keys() -> None:
    """The derived signing key is reused, but never across secrets or dates: credentials that
    rotate on every call, then a call a day later, all verify."""
    pairs = [("ASIAROTATEA000000001", "secret/A", "token-A"),
             ("ASIAROTATEB000000001", "secret/B", "token-B")]
    turn = iter(range(100))

    def refresh() -> dict[str, str]:  # expiring within botocore's advisory window: every call
        akid, secret, token = pairs[next(turn) % 2]
        return {"access_key": akid, "secret_key": secret, "token": token,
                "expiry_time": _iso(14 * 60)}

    creds = RefreshableCredentials.create_from_metadata(
        {**refresh(), "expiry_time": _iso(14 * 60)}, refresh_using=refresh, method="test-sts")
    keys = {akid: AwsKey(secret, token) for akid, secret, token in pairs}
    async with BedrockEmulator(keys=keys) as emu:
        provider = BedrockProvider(base_url=emu.url, credentials=creds)
        async with cr.AsyncClient(providers=[provider]) as client:
            for _ in range(4):
                await client.messages.create(model="claude-sonnet-4-5", max_tokens=8,
                                             messages=MESSAGES)
            tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
            provider.auth.clock = tomorrow.timestamp  # type: ignore[attr-defined]
            emu.clock = tomorrow.timestamp
            await client.messages.create(model="claude-sonnet-4-5", max_tokens=8,
                                         messages=MESSAGES)
    assert len({r.headers["X-Amz-Security-Token"] for r in emu.requests}) == 2
    assert len(emu.requests) == 5 and emu.requests[-1].headers["X-Amz-Date"].startswith(
        tomorrow.strftime("%Y%m%d"))


class _FakeNow:
    """One fake clock for botocore's expiry checks (``time_fetcher``), the signer and the
    emulator."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def timestamp(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def _expiring_credentials(clock: _FakeNow, issued: list[str]) -> RefreshableCredentials:
    def refresh() -> dict[str, str]:
        issued.append(NEW_KEY)
        return {"access_key": NEW_KEY, "secret_key": NEW_SECRET, "token": NEW_TOKEN,
                "expiry_time": (clock.now + dt.timedelta(hours=1)).isoformat()}

    return RefreshableCredentials("ASIAOLD", "old/secret", "old-token",
                                  clock.now + dt.timedelta(hours=1), refresh, "test-sts",
                                  time_fetcher=clock)


async def test_credentials_expiring_mid_run_are_renewed() -> None:
    """Credentials not due are used without a timer around prepare (``prepare_may_block`` is
    False once they are at hand), but the "not due" is not kept for long: when the fake clock
    reaches botocore's refresh window mid-run, the next call waits for the renewal (timed) and
    is signed with the new keys."""
    clock, issued = _FakeNow(), []
    creds = _expiring_credentials(clock, issued)
    keys = {"ASIAOLD": AwsKey("old/secret", "old-token"), NEW_KEY: AwsKey(NEW_SECRET, NEW_TOKEN)}
    async with BedrockEmulator(keys=keys) as emu:
        emu.clock = clock.timestamp
        provider = BedrockProvider(base_url=emu.url, credentials=creds)
        provider.auth.clock = clock.timestamp  # type: ignore[attr-defined]
        assert provider.prepare_may_block is True  # nothing resolved yet
        async with cr.AsyncClient(providers=[provider]) as client:
            for _ in range(3):
                await client.messages.create(model="claude-sonnet-4-5", max_tokens=8,
                                             messages=MESSAGES)
                assert provider.prepare_may_block is False
            clock.advance(50 * 60)  # 10 minutes left: inside botocore's refresh window
            assert provider.prepare_may_block is True
            await client.messages.create(model="claude-sonnet-4-5", max_tokens=8,
                                         messages=MESSAGES)
            assert provider.prepare_may_block is False
    tokens = [r.headers["X-Amz-Security-Token"] for r in emu.requests]
    assert tokens == ["old-token"] * 3 + [NEW_TOKEN] and issued == [NEW_KEY]


async def test_not_due_is_trusted_one_second_then_asked_again() -> None:
    """botocore's ``refresh_needed`` (~9 µs) is asked at most once a second: a "not due" is
    trusted by ``ready()`` for one second of the clock, and by ``refresh()`` for one more (what
    ``prepare_may_block`` promised holds for the ``prepare`` that follows it); after that the
    renewal runs. (botocore asks for it 15 minutes before expiry: seconds-old keys are good.)"""
    clock, issued = _FakeNow(), []
    provider = BedrockProvider(base_url="http://127.0.0.1:9",
                               credentials=_expiring_credentials(clock, issued))
    auth: Any = provider.auth
    auth.clock = clock.timestamp
    await auth.refresh()
    assert auth.resolutions == 1
    clock.advance(45 * 60 - 0.5)  # 15 min 0.5 s left: not due yet
    assert auth.ready()  # asked: "not due"
    clock.advance(0.8)  # botocore: due now (inside its 15-minute window)
    assert auth.ready() and not provider.prepare_may_block  # trusted: 0.8 s old
    clock.advance(0.5)  # 1.3 s old: refresh() still trusts it, ready() asks again
    await auth.refresh()
    assert auth.resolutions == 1 and issued == []
    assert not auth.ready() and provider.prepare_may_block
    clock.advance(1.0)  # 2.3 s old: refresh() asks too, and renews
    await auth.refresh()
    assert auth.resolutions == 2 and issued == [NEW_KEY]
    assert auth.credentials().token == NEW_TOKEN and auth.ready()
