"""Credential refreshes of every bundled provider: one refresh in flight per auth object (a
cancelled caller does not let the next call start a second one), and a refresh that fails is a
``CredentialsError`` for every waiter (the platform is unavailable, so a route fails over), its
cause chained and no foreign text or secret in its message (issue #11, items 6 and 13)."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import google.auth.credentials
import pytest
from azure.core.credentials import AccessToken
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import NoCredentialsError
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider
from clauderoute_aws import AWSProvider
from clauderoute_aws._auth import SigV4Auth as AwsSigV4Auth
from clauderoute_bedrock import BedrockProvider
from clauderoute_bedrock._auth import SigV4Auth as BedrockSigV4Auth
from clauderoute_foundry import FoundryProvider
from clauderoute_foundry._auth import EntraAuth
from clauderoute_google_cloud import GoogleCloudProvider
from clauderoute_google_cloud._auth import GoogleAuth as CloudGoogleAuth
from clauderoute_vertex import VertexProvider
from clauderoute_vertex._auth import GoogleAuth as VertexGoogleAuth

import clauderoute as cr
from clauderoute.provider import CREATE, Auth, Call, CredentialsError, SharedRefresh
from clauderoute.testing import no_backoff

CANARY = "canary-secret-7f3a"  # a foreign error's text: must never reach our message
KEY = "sk-ant-test-credentials"


class Gate:
    """A blocking credential source: each fetch counts, says it started, then waits for
    ``release`` (and raises ``error`` if one is set), like an STS or token round trip."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls = 0
        self.entered = threading.Event()
        self.release = threading.Event()
        self.error = error

    def fetch(self) -> None:
        self.calls += 1
        self.entered.set()
        assert self.release.wait(30), "the test never released the gate"
        if self.error is not None:
            raise self.error


class _AwsSource:
    """A botocore ``Credentials``-like object given as ``credentials=`` (used as-is)."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        self.gate.fetch()
        return ReadOnlyCredentials("AKIAGATED", "gated/secret", None)


class _GoogleSource(google.auth.credentials.Credentials):  # type: ignore[misc]
    """google-auth's extension point, its refresh gated."""

    def __init__(self, gate: Gate) -> None:
        super().__init__()
        self.gate = gate

    def refresh(self, request: Any) -> None:
        self.gate.fetch()
        self.token = "ya29.gated"
        self.expiry = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).replace(tzinfo=None)


class _EntraSource:
    """A synchronous azure-core ``TokenCredential``, its get_token gated."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def get_token(self, *scopes: str) -> AccessToken:
        self.gate.fetch()
        return AccessToken("entra.gated.token", int(dt.datetime.now(dt.UTC).timestamp()) + 3600)


AUTHS: dict[str, Callable[[Gate], Auth]] = {
    "bedrock": lambda g: BedrockSigV4Auth(region="us-east-1", credentials=_AwsSource(g)),
    "aws": lambda g: AwsSigV4Auth(region="us-west-2", credentials=_AwsSource(g)),
    "vertex": lambda g: VertexGoogleAuth(credentials=_GoogleSource(g)),
    "google-cloud": lambda g: CloudGoogleAuth(credentials=_GoogleSource(g)),
    "foundry": lambda g: EntraAuth(_EntraSource(g)),
}


async def _started(gate: Gate) -> None:
    assert await asyncio.to_thread(gate.entered.wait, 30)


@pytest.mark.parametrize("platform", sorted(AUTHS))
async def test_cancelled_caller_does_not_start_a_second_refresh(platform: str) -> None:
    """The caller that started a refresh is cancelled while the refresh blocks; the next call
    joins that refresh instead of starting another, and afterwards the credential is fresh."""
    gate = Gate()
    auth = AUTHS[platform](gate)
    first = asyncio.create_task(auth.refresh())
    await _started(gate)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    second = asyncio.create_task(auth.refresh())
    await asyncio.sleep(0)  # let it reach the shared refresh before the gate opens
    gate.release.set()
    await second
    await auth.refresh()  # fresh now: no fetch at all
    assert gate.calls == 1


@pytest.mark.parametrize("platform", sorted(AUTHS))
async def test_every_caller_cancelled_the_refresh_still_lands(platform: str) -> None:
    """Nobody waits any more when the refresh completes: its result is kept all the same,
    and the next call does not fetch again."""
    gate = Gate()
    auth = AUTHS[platform](gate)
    first = asyncio.create_task(auth.refresh())
    await _started(gate)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    gate.release.set()
    await asyncio.to_thread(lambda: None)  # a worker-thread round trip: the fetch returned
    for _ in range(20):  # the shared task's completion is a few loop steps away
        await asyncio.sleep(0)
    await auth.refresh()
    assert gate.calls == 1


@pytest.mark.parametrize("platform", sorted(AUTHS))
async def test_a_failed_refresh_is_a_credentials_error_for_every_waiter(platform: str) -> None:
    """A refresh that raises a foreign exception reaches all of its waiters as one
    CredentialsError: the exception's type named, its text (maybe a secret) not repeated, the
    original chained; the next call tries again."""
    gate = Gate(error=RuntimeError(CANARY))
    auth = AUTHS[platform](gate)
    waiters = [asyncio.create_task(auth.refresh()) for _ in range(3)]
    await _started(gate)
    waiters[0].cancel()  # one waiter gives up: the others still get the outcome
    gate.release.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert isinstance(results[0], asyncio.CancelledError)
    for exc in results[1:]:
        assert isinstance(exc, CredentialsError), exc
        assert platform in str(exc) and "RuntimeError" in str(exc)
        assert CANARY not in str(exc) and CANARY not in repr(exc)
        assert isinstance(exc.__cause__, RuntimeError)
    assert gate.calls == 1
    gate.error = None
    gate.entered.clear()
    await auth.refresh()  # a new attempt, which succeeds
    assert gate.calls == 2


async def test_shared_refresh_keeps_our_own_words_and_prefixes_the_platform() -> None:
    """One of clauderoute's errors raised by a refresh keeps its message (ours carry no
    secret), prefixed with the platform; a CredentialsError passes unchanged."""
    shared = SharedRefresh("myplatform")

    async def configuration() -> None:
        raise cr.ConfigurationError("credentials_file: not found")

    with pytest.raises(CredentialsError, match="^myplatform: credentials_file: not found$"):
        await shared.run(configuration)
    original = CredentialsError("myplatform: nothing here")

    async def credentials() -> None:
        raise original

    with pytest.raises(CredentialsError) as info:
        await shared.run(credentials)
    assert info.value is original
    assert shared.runs == 2 and not shared.in_flight
    assert "in_flight=False" in repr(shared)


async def test_a_provider_without_credentials_fails_over() -> None:
    """A route whose first provider cannot get credentials serves the call on the second;
    the attempt records the CredentialsError."""
    class Broken:  # botocore's own error, as an expired SSO session raises it
        def get_frozen_credentials(self) -> Any:
            raise NoCredentialsError()

    async with AnthropicEmulator(api_key=KEY) as emu:
        broken = BedrockProvider(name="broken", base_url="http://127.0.0.1:9",
                                 credentials=Broken(), max_retries=0)
        healthy = AnthropicProvider(name="healthy", base_url=emu.url, api_key=KEY)
        async with cr.AsyncClient(providers=[broken, healthy]) as client:
            with no_backoff():
                msg = await client.messages.create(
                    model="claude-haiku-4-5", max_tokens=8,
                    messages=[{"role": "user", "content": "hi"}])
    assert msg.route.provider == "healthy"
    assert msg.route.attempts[0].error == "CredentialsError"


PROVIDERS: dict[str, Callable[[Any], Any]] = {
    "bedrock": lambda c: BedrockProvider(base_url="http://127.0.0.1:9", credentials=c),
    "aws": lambda c: AWSProvider(base_url="http://127.0.0.1:9", region="us-west-2",
                                 workspace_id="wrkspc_test", credentials=c),
    "vertex": lambda c: VertexProvider(project="p", region="global", credentials=c),
    "google-cloud": lambda c: GoogleCloudProvider(project="p", workspace_id="wrkspc_test",
                                                  credentials=c),
    "foundry": lambda c: FoundryProvider(base_url="http://127.0.0.1:9/anthropic",
                                         credential=c),
}
SOURCES: dict[str, Callable[[Gate], Any]] = {
    "bedrock": _AwsSource, "aws": _AwsSource, "vertex": _GoogleSource,
    "google-cloud": _GoogleSource, "foundry": _EntraSource}


@pytest.mark.parametrize("platform", sorted(PROVIDERS))
async def test_provider_call_with_broken_credentials_raises_credentials_error(
        platform: str) -> None:
    """Through ``prepare`` (what every call does first), a provider whose credential source
    fails raises CredentialsError naming the platform, never the source's own exception."""
    gate = Gate(error=OSError(CANARY))
    gate.release.set()
    provider = PROVIDERS[platform](SOURCES[platform](gate))
    call = Call(operation=CREATE, params={"model": "claude-haiku-4-5", "max_tokens": 1,
                                          "messages": [{"role": "user", "content": "hi"}]})
    with pytest.raises(CredentialsError, match=f"^{platform}: ") as info:
        await provider.prepare(call)
    assert CANARY not in str(info.value) and isinstance(info.value.__cause__, OSError)
