"""Credentials over loopback: boto3's chain (env, a profile file, a failing credential_process),
temporary credentials that botocore refreshes (one refresh for 100 concurrent calls, off the
event loop), failures at call time, and the emulator's botocore-verified SigV4 rejecting bad
signatures, wrong regions and services, expired dates, missing session tokens and altered
bodies — an upload's included; no credential in botocore's debug log."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from botocore.auth import SigV4Auth as BotoSigner
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, RefreshableCredentials
from botocore.exceptions import EndpointConnectionError
from clauderoute_aws import AWSEmulator, AWSProvider
from clauderoute_aws.emulator import ACCESS_KEY, SECRET_KEY, WORKSPACE, AwsKey

import clauderoute as cr
from clauderoute.provider import CREATE, Call
from clauderoute.testing import loop_ticks, no_backoff

REGION = "us-west-2"
MESSAGES = [{"role": "user", "content": "Hello there, Claude"}]
NEW_KEY, NEW_SECRET, NEW_TOKEN = "ASIAREFRESHEDPLAT001", "refreshed/secret+2", "refreshed-tok"


def _iso(seconds: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).isoformat()


def _provider(emu: AWSEmulator, **kw: Any) -> AWSProvider:
    kw.setdefault("region", REGION)
    return AWSProvider(base_url=emu.url, workspace_id=WORKSPACE, **kw)


async def _create(provider: AWSProvider) -> Any:
    async with cr.AsyncClient(providers=[provider]) as client:
        with no_backoff():
            return await client.messages.create(model="claude-haiku-4-5", max_tokens=16,
                                                messages=MESSAGES)


def _call() -> Call:
    return Call(operation=CREATE, params={"model": "m", "max_tokens": 1, "messages": MESSAGES})


async def test_hundred_concurrent_calls_one_refresh() -> None:
    """Credentials botocore says are near expiry are refreshed once, in a worker thread, for
    100 concurrent calls, while the event loop keeps turning; all 100 are signed with the new
    keys (the emulator accepts only those)."""
    calls: list[str] = []

    def refresh() -> dict[str, str]:
        calls.append(threading.current_thread().name)
        time.sleep(0.3)  # an STS round trip; the event loop must not wait on it
        return {"access_key": NEW_KEY, "secret_key": NEW_SECRET, "token": NEW_TOKEN,
                "expiry_time": _iso(3600)}

    creds = RefreshableCredentials.create_from_metadata(
        {"access_key": "ASIAOLD", "secret_key": "old", "token": "old", "expiry_time": _iso(60)},
        refresh_using=refresh, method="test-sts")
    async with AWSEmulator(keys={NEW_KEY: AwsKey(NEW_SECRET, NEW_TOKEN)}) as emu:
        provider = _provider(emu, credentials=creds)
        async with cr.AsyncClient(providers=[provider]) as client:
            results, ticks = await loop_ticks(asyncio.gather(*(client.messages.create(
                model="claude-haiku-4-5", max_tokens=8, messages=MESSAGES)
                for _ in range(100))))
        assert all(m.text.startswith("Echo:") for m in results)
        assert len(calls) == 1 and calls[0] != threading.main_thread().name
        assert ticks >= 3  # a refresh run in place would leave it at 0 or 1
        assert provider.auth.resolutions == 1  # type: ignore[attr-defined]
        assert {r.headers["X-Amz-Security-Token"] for r in emu.requests} == {NEW_TOKEN}


async def test_a_cancelled_refresh_leaves_no_lock_behind() -> None:
    """A call cancelled while its credential refresh runs in a thread releases the lock: the
    next call refreshes and signs."""
    started = threading.Event()

    def refresh() -> dict[str, str]:
        started.set()
        time.sleep(0.2)
        return {"access_key": NEW_KEY, "secret_key": NEW_SECRET, "token": NEW_TOKEN,
                "expiry_time": _iso(3600)}

    creds = RefreshableCredentials.create_from_metadata(
        {"access_key": "A", "secret_key": "s", "token": "t", "expiry_time": _iso(-60)},
        refresh_using=refresh, method="test-sts")
    provider = AWSProvider(region=REGION, workspace_id=WORKSPACE, credentials=creds)
    task = asyncio.create_task(provider.prepare(_call()))
    while not started.is_set():
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    req = await asyncio.wait_for(provider.prepare(_call()), 5)
    assert req.headers["X-Amz-Security-Token"] == NEW_TOKEN


async def test_profile_from_shared_credentials_file(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """profile= reads boto3's shared credentials file."""
    (tmp_path / "credentials").write_text(
        f"[dev]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    async with AWSEmulator() as emu:
        provider = _provider(emu, profile="dev")
        assert provider.auth.kind == "sigv4"
        assert (await _create(provider)).text == "Echo: Hello there, Claude"


async def test_credential_failures_at_call_time(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty chain, a failing credential_process and an unreachable credential endpoint are
    CredentialsErrors (the router fails over; the botocore error chained, its text not in
    ours); nothing reaches the platform."""
    async with AWSEmulator() as emu:
        with pytest.raises(cr.CredentialsError, match="no AWS credentials found"):
            await _create(_provider(emu))
        (tmp_path / "config").write_text(
            "[profile broken]\ncredential_process = /bin/false\n")
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
        with pytest.raises(cr.CredentialsError, match="CredentialRetrievalError") as info:
            await _provider(emu, profile="broken").prepare(_call())
        assert info.value.__cause__ is not None and "/bin/false" not in str(info.value)

        def unreachable() -> dict[str, str]:
            raise EndpointConnectionError(endpoint_url="https://sts.us-west-2.amazonaws.com")

        creds = RefreshableCredentials.create_from_metadata(
            {"access_key": "A", "secret_key": "s", "token": "t", "expiry_time": _iso(-60)},
            refresh_using=unreachable, method="test-sts")
        with pytest.raises(cr.CredentialsError, match="EndpointConnectionError"):
            await _provider(emu, credentials=creds).prepare(_call())
        assert emu.requests == []


@pytest.mark.parametrize(("settings", "emu_settings", "text"), [
    ({"secret_key": "wrong"}, {}, "InvalidSignatureException: The request signature"),
    ({"region": "us-east-1"}, {}, "scoped to a valid region"),
    ({}, {"clock": lambda: time.time() + 3600}, "Signature expired"),
    ({"access_key": "ASIATEMP"}, {"keys": {"ASIATEMP": AwsKey(SECRET_KEY, "tok")}},
     "UnrecognizedClientException"),
    ({"access_key": "AKIAUNKNOWN"}, {}, "security token included in the request is invalid"),
])
async def test_signature_rejections(settings: dict[str, Any], emu_settings: dict[str, Any],
                                    text: str) -> None:
    """Each SigV4 failure is a 401 authentication_error naming AWS's exception: fatal, one
    request."""
    kw: dict[str, Any] = {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY, **settings}
    async with AWSEmulator(**emu_settings) as emu:
        with pytest.raises(cr.AuthenticationError) as info:
            await _create(_provider(emu, **kw))
        assert len(emu.requests) == 1
    assert (info.value.status, info.value.error_type) == (401, "authentication_error")
    assert text in str(info.value)


async def test_wrong_service_and_altered_bodies() -> None:
    """A signature for another service (botocore's own signer, service bedrock) and a body
    changed after signing — a JSON body and a multipart upload — fail verification; the
    untouched requests pass."""
    async with AWSEmulator() as emu:
        provider = _provider(emu, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
        req = await provider.prepare(Call(operation=CREATE, params={
            "model": "claude-haiku-4-5", "max_tokens": 5, "messages": MESSAGES}))
        other = AWSRequest(method="POST", url=req.url, data=req.body, headers={
            k: v for k, v in req.headers.items() if not k.lower().startswith(("x-amz",
                                                                             "authorization"))})
        BotoSigner(Credentials(ACCESS_KEY, SECRET_KEY), "bedrock", REGION).add_auth(other)
        async with aiohttp.ClientSession() as session:
            async with session.post(req.url, headers=req.headers, data=req.body) as ok:
                assert ok.status == 200
            async with session.post(req.url, headers=req.headers,
                                    data=req.body.replace(b"Hello", b"Howdy")) as bad:
                assert bad.status == 401 and "signature we calculated" in await bad.text()
            async with session.post(req.url, headers=dict(other.headers.items()),
                                    data=req.body) as wrong:
                assert "correct service: 'aws-external-anthropic'" in await wrong.text()
        async with cr.AsyncClient(providers=[provider]) as client:
            up = await client.beta.files.upload(file=("a.txt", b"original text"))
            assert up.size_bytes == 13
            signed = await provider.prepare(Call(operation="files.upload", params={
                "path": {}, "content": b"--b\r\nx\r\n--b--\r\n"}, extra_headers={
                "content-type": "multipart/form-data; boundary=b"}))
        async with aiohttp.ClientSession() as session, session.post(
                signed.url, headers=signed.headers, data=b"--b\r\ny\r\n--b--\r\n") as bad:
            assert bad.status == 401 and "signature we calculated" in await bad.text()


async def test_signing_date_follows_the_clock() -> None:
    """The signature's date is the auth clock's: a day later both sides agree; ten minutes
    behind the emulator's clock is refused as expired."""
    tomorrow = time.time() + 86400
    async with AWSEmulator(clock=lambda: tomorrow) as emu:
        provider = _provider(emu, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
        provider.auth.clock = lambda: tomorrow  # type: ignore[attr-defined]
        await _create(provider)
        day = time.strftime("%Y%m%d", time.gmtime(tomorrow))
        assert emu.requests[-1].headers["X-Amz-Date"].startswith(day)
        provider.auth.clock = lambda: tomorrow - 600  # type: ignore[attr-defined]
        with pytest.raises(cr.AuthenticationError, match="Signature expired"):
            await _create(provider)


async def test_no_credential_in_botocore_debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    """With botocore logging at DEBUG, signing logs neither the secret, the session token nor
    the signature (botocore's add_auth would log the canonical request and the signature)."""
    token = "session-token-canary-" + "z" * 20
    async with AWSEmulator(keys={ACCESS_KEY: AwsKey(SECRET_KEY, token)}) as emu:
        provider = _provider(emu, access_key=ACCESS_KEY, secret_key=SECRET_KEY,
                             session_token=token)
        with caplog.at_level(logging.DEBUG, logger="botocore"):
            await _create(provider)
    sig = emu.requests[-1].headers["Authorization"].rsplit("=", 1)[1]
    assert all(s not in caplog.text for s in (SECRET_KEY, token, sig))


def test_boto3_is_imported_lazily() -> None:
    """Building a SigV4 provider imports no boto3 or botocore; the first signature does."""
    code = ("import sys\nfrom clauderoute_aws import AWSProvider\n"
            "p = AWSProvider(region='us-west-2', workspace_id='w', access_key='A', "
            "secret_key='s')\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore'}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


async def test_credentials_expiring_mid_run_are_renewed() -> None:
    """Credentials not due are used without a timer around prepare, and botocore's
    ``refresh_needed`` is asked at most once a second of the clock — but when the fake clock
    (botocore's ``time_fetcher``, the signer's and the emulator's) reaches botocore's refresh
    window mid-run, the next call renews them and is signed with the new keys."""
    now = [dt.datetime.now(dt.UTC)]
    issued: list[str] = []

    def refresh() -> dict[str, str]:
        issued.append(NEW_KEY)
        return {"access_key": NEW_KEY, "secret_key": NEW_SECRET, "token": NEW_TOKEN,
                "expiry_time": (now[0] + dt.timedelta(hours=1)).isoformat()}

    creds = RefreshableCredentials("ASIAOLDPLAT", "old/secret", "old-tok",
                                   now[0] + dt.timedelta(hours=1), refresh, "test-sts",
                                   time_fetcher=lambda: now[0])
    keys = {"ASIAOLDPLAT": AwsKey("old/secret", "old-tok"), NEW_KEY: AwsKey(NEW_SECRET, NEW_TOKEN)}
    async with AWSEmulator(keys=keys, clock=lambda: now[0].timestamp()) as emu:
        provider = _provider(emu, credentials=creds)
        auth: Any = provider.auth
        auth.clock = lambda: now[0].timestamp()
        assert provider.prepare_may_block is True
        async with cr.AsyncClient(providers=[provider]) as client:
            for _ in range(3):
                await client.messages.create(model="claude-haiku-4-5", max_tokens=8,
                                             messages=MESSAGES)
                assert provider.prepare_may_block is False
            now[0] += dt.timedelta(minutes=45, seconds=-0.5)  # 15 min 0.5 s left: not due
            assert auth.ready()
            now[0] += dt.timedelta(seconds=0.8)  # due for botocore; "not due" 0.8 s old
            assert auth.ready() and issued == []
            now[0] += dt.timedelta(seconds=2)  # asked again: due
            assert provider.prepare_may_block is True
            await client.messages.create(model="claude-haiku-4-5", max_tokens=8,
                                         messages=MESSAGES)
            assert provider.prepare_may_block is False
    tokens = [r.headers["X-Amz-Security-Token"] for r in emu.requests]
    assert tokens == ["old-tok"] * 3 + [NEW_TOKEN] and issued == [NEW_KEY]
