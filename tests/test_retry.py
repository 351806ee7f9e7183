"""The official SDK's retry policy: which answers are retried, how often and how far apart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

import clauderoute as cr
from clauderoute import RetryPolicy
from clauderoute._provider import parse_retry_after
from clauderoute.testing import Fault, no_backoff

KEY = "retry-key"


@pytest.fixture
async def emu() -> AsyncIterator[AnthropicEmulator]:
    async with AnthropicEmulator(api_key=KEY) as server:
        yield server


async def _create(emu: AnthropicEmulator, **kw: object) -> cr.types.Message:
    async with cr.AsyncClient(
        providers=[AnthropicProvider(base_url=emu.url, api_key=KEY, **kw)], timeout=2
    ) as client:
        return await client.messages.create(
            model="claude-haiku-4-5", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
        )


def test_backoff_formula() -> None:
    """min(0.5 * 2**n, 8) with up to 25 % jitter removed; a positive hint wins."""
    policy = RetryPolicy()
    for n, base in [(0, 0.5), (1, 1.0), (2, 2.0), (5, 8.0), (9, 8.0)]:
        waits = [policy.backoff(n) for _ in range(200)]
        assert all(0.75 * base <= w <= base for w in waits)
        assert max(waits) - min(waits) > 0.05 * base  # jitter is really applied
    assert policy.backoff(0, retry_after=3.0) == 3.0
    assert 0.375 <= policy.backoff(0, retry_after=600.0) <= 0.5  # over max_retry_after


def test_retry_after_headers() -> None:
    """retry-after-ms wins over retry-after; seconds may be fractional or an HTTP date."""
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after": "-1"}) is None
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 < (parse_retry_after({"retry-after": later}) or 0) <= 31
    assert parse_retry_after({"retry-after": "soon"}) is None


@pytest.mark.parametrize("status", [408, 409, 429, 500, 503, 529])
async def test_retried_statuses(emu: AnthropicEmulator, status: int) -> None:
    """408, 409, 429 and every 5xx (529 included) are retried, then succeed."""
    emu.faults.add(Fault(status=status, retry_after=0.01))
    msg = await _create(emu)
    assert len(emu.requests) == 2 and msg.route.attempts[0].status == status


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
async def test_not_retried_statuses(emu: AnthropicEmulator, status: int) -> None:
    """Request errors are raised at once with the SDK's class for the status."""
    emu.faults.add(Fault(status=status))
    with pytest.raises(cr.APIStatusError) as info:
        await _create(emu)
    assert info.value.status == status and len(emu.requests) == 1
    assert (
        type(info.value).__name__
        == {
            400: "BadRequestError",
            401: "AuthenticationError",
            403: "PermissionDeniedError",
            404: "NotFoundError",
            413: "RequestTooLargeError",
            422: "UnprocessableEntityError",
        }[status]
    )


async def test_x_should_retry_overrides(emu: AnthropicEmulator) -> None:
    """x-should-retry: true retries a 400; x-should-retry: false stops a 529."""
    emu.faults.add(Fault(status=400, should_retry=True, retry_after=0.01))
    await _create(emu)
    assert len(emu.requests) == 2
    emu.faults.add(Fault(status=529, should_retry=False))
    with pytest.raises(cr.OverloadedError) as info:
        await _create(emu)
    assert len(emu.requests) == 3
    assert info.value.error_type == "overloaded_error" and info.value.request_id


async def test_attempt_count_and_spacing(emu: AnthropicEmulator) -> None:
    """Two retries by default, spaced by the exponential backoff (0.5 s then 1 s, jittered),
    and the client really waits them out (shown on a policy scaled down tenfold, so the test
    does not sleep 1.5 s)."""
    emu.faults.add(Fault(status=500), times=3)
    with no_backoff(), pytest.raises(cr.InternalServerError) as info:
        await _create(emu)
    attempts = info.value.attempts
    assert len(emu.requests) == 3 and len(attempts) == 3
    assert 0.375 <= attempts[1].backoff_s <= 0.5 and 0.75 <= attempts[2].backoff_s <= 1.0

    emu.faults.add(Fault(status=500), times=3)
    provider = AnthropicProvider(base_url=emu.url, api_key=KEY)
    async with cr.AsyncClient(providers=[provider], retry=RetryPolicy(wait_initial=0.05)) as c:
        t0 = time.perf_counter()
        with pytest.raises(cr.InternalServerError) as info:
            await c.messages.create(
                model="claude-haiku-4-5", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
            )
        elapsed = time.perf_counter() - t0
    attempts = info.value.attempts
    assert 0.0375 <= attempts[1].backoff_s <= 0.05 and 0.075 <= attempts[2].backoff_s <= 0.1
    assert elapsed >= attempts[1].backoff_s + attempts[2].backoff_s


async def test_max_retries_setting(emu: AnthropicEmulator) -> None:
    """max_retries=0 makes exactly one request."""
    emu.faults.add(Fault(status=529))
    with pytest.raises(cr.OverloadedError):
        await _create(emu, max_retries=0)
    assert len(emu.requests) == 1


async def test_read_timeout(emu: AnthropicEmulator) -> None:
    """An answer slower than the timeout raises ReadTimeout, on the one attempt max_retries=0
    allows (the answer never comes within the 20 s guard: only the timeout can end the call)."""
    emu.faults.add(Fault(delay_s=3600))
    async with cr.AsyncClient(
        providers=[AnthropicProvider(base_url=emu.url, api_key=KEY, max_retries=0)], timeout=0.1
    ) as client:
        with pytest.raises(cr.ReadTimeout):
            call = client.messages.create(
                model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
            )
            await asyncio.wait_for(call, 20)
    assert len(emu.requests) == 1


async def test_connection_refused_is_connect_error() -> None:
    """A port with nobody listening gives ConnectError naming the provider."""
    server = AnthropicEmulator(api_key=KEY)
    await server.start()
    url = server.url
    await server.stop()
    async with cr.AsyncClient(
        providers=[AnthropicProvider(name="gone", base_url=url, api_key=KEY, max_retries=0)]
    ) as c:
        with pytest.raises(cr.ConnectError, match=r"\[gone\]"):
            await c.messages.create(
                model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
            )
