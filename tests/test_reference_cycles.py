"""Failure paths leave no reference cycle through our code.

An exception's traceback holds every frame it passed through, and a finished frame keeps its
locals: a frame of ours that keeps an exception (or something holding it, such as the task it
ends) after the exception passed through it makes a cycle that only the cyclic garbage
collector frees, with every frame, buffer and timer handle it reaches. During an outage every
call takes such paths, so each cycle is paid per failed attempt (in the fault storm, half of
what the collector freed came from one of them). The collector is switched off while the calls
run, then asked what it finds unreachable: no frame of clauderoute may be among it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import threading
from collections.abc import Iterator
from typing import Any

import clauderoute_bedrock
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider
from clauderoute_bedrock import BedrockProvider
from clauderoute_bedrock._eventframes import FrameDecoder, FrameError

import clauderoute as cr
from clauderoute.routing import Hedging
from clauderoute.testing import Fault, Hostile, HostileServer, LatencyProfile

KEY = "cycles-key"
HELLO: Any = [{"role": "user", "content": "Hello cycles"}]
NAMES = ("a", "b")
STREAM = frozenset({"messages.stream"})
# clauderoute and our providers' packages
OURS = tuple(os.path.dirname(m.__file__) + os.sep for m in (cr, clauderoute_bedrock))


async def create(client: cr.AsyncClient) -> Any:
    return await client.messages.create(model="claude-haiku-4-5", max_tokens=8, messages=HELLO)


async def stream(client: cr.AsyncClient) -> Any:
    async with client.messages.stream(model="claude-haiku-4-5", max_tokens=8, messages=HELLO) as s:
        return await s.get_final_message()


@contextlib.contextmanager
def frames_in_cycles() -> Iterator[list[str]]:
    """Yields a list that, when the block ends, holds ``file:function`` of every frame of ours
    the cyclic collector finds unreachable (the collector off meanwhile, so nothing is freed
    before it is counted)."""
    found: list[str] = []
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield found
        gc.collect()
        found += sorted(
            f"{os.path.basename(f.f_code.co_filename)}:{f.f_code.co_name}"
            for f in gc.garbage
            if type(f).__name__ == "frame" and f.f_code.co_filename.startswith(OURS)
        )
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()


async def test_failed_over_attempts_leave_no_cycle(emus: dict[str, AnthropicEmulator]) -> None:
    """Calls that fail over after every kind of failed attempt, and a call that fails on every
    provider: the router keeps each attempt's error while the call runs, not after."""
    a, b = emus["a"], emus["b"]
    client = cr.AsyncClient(
        providers=[
            AnthropicProvider(name=n, base_url=emus[n].url, api_key=KEY, max_retries=0)
            for n in NAMES
        ],
        breaker=False,
    )
    faults = [Fault(status=529), Fault(status=500, retry_after=0.01), Fault(reset=True)]
    faults += [
        Fault(operations=STREAM, stream_error="overloaded_error", after_events=1),
        Fault(operations=STREAM, malformed=True, after_events=1),
    ]
    served: list[str] = []
    failed: list[BaseException] = []

    async def run() -> None:
        for fault in faults:
            for call in (create, stream):
                if call is create and fault.operations:
                    continue
                a.faults.add(fault)
                served.append((await call(client)).route.provider)
        a.faults.add(Fault(status=529))
        b.faults.add(Fault(status=529))
        try:
            await create(client)
        except cr.AllPlatformsFailedError as exc:
            failed.append(exc)
        failed.clear()  # the error kept by the caller until here, then dropped

    async with client:
        await create(client)  # connections and caches made before counting
        with frames_in_cycles() as found:
            await run()
    assert served == ["b"] * 8
    assert found == []


async def test_a_task_ended_by_a_failure_leaves_no_cycle() -> None:
    """A task whose call failed holds the error; the timers the call ran under must not hold
    the task in turn (a reset, a timed-out answer, a stream cut by its deadline)."""
    answers = [Hostile(), Hostile(mode="reset_before_headers"), Hostile(mode="stall")]
    answers += [Hostile(mode="pings", after_events=3, drip_s=0.02)]
    async with HostileServer(*answers) as server:
        provider = AnthropicProvider(name="h", base_url=server.url, api_key=KEY, max_retries=0)
        # the timeout ends the stall, 0.1 s before the deadline could
        client = cr.AsyncClient(providers=[provider], timeout=0.1, deadline=0.2)
        errors: list[str] = []

        async def run() -> None:
            for call in (create, create, stream):
                task = asyncio.ensure_future(call(client))
                await asyncio.wait([task])
                exc = task.exception()
                errors.append(type(exc).__name__)
                del task, exc

        async with client:
            await create(client)  # the first, polite answer: connections made
            with frames_in_cycles() as found:
                await run()
    assert errors == ["ConnectError", "ReadTimeoutError", "StreamInterruptedError"]
    assert found == []


async def test_a_hedged_call_leaves_no_cycle(emus: dict[str, AnthropicEmulator]) -> None:
    """The slow primary loses the race and is cancelled: its cancellation is not kept."""
    emus["a"].latency = LatencyProfile(ttft_s=0.5)
    client = cr.AsyncClient(
        providers=[AnthropicProvider(name=n, base_url=emus[n].url, api_key=KEY) for n in NAMES],
        hedging=Hedging(after=0.05, budget=1.0),
    )
    routes: list[Any] = []

    async def run() -> None:
        for call in (create, stream):
            routes.append((await call(client)).route)

    async with client:
        with frames_in_cycles() as found:
            await run()
    assert [(a.provider, a.error) for r in routes for a in r.attempts] == [
        ("a", "Cancelled"),
        ("b", None),
    ] * 2
    assert found == []


async def test_a_failed_credential_refresh_leaves_no_cycle(
    emus: dict[str, AnthropicEmulator],
) -> None:
    """A provider whose credential source fails (a new error each time, as a real source
    raises) fails over: neither the shared refresh nor the auth keeps the error's task."""

    class Broken:
        def get_frozen_credentials(self) -> Any:
            raise OSError("credentials endpoint down")

    broken = BedrockProvider(
        name="broken", base_url="http://127.0.0.1:9", credentials=Broken(), max_retries=0
    )
    healthy = AnthropicProvider(name="a", base_url=emus["a"].url, api_key=KEY)
    async with cr.AsyncClient(providers=[broken, healthy], breaker=False) as client:
        await create(client)
        with frames_in_cycles() as found:
            msgs = [await create(client) for _ in range(2)]
    assert [a.error for m in msgs for a in m.route.attempts] == ["CredentialsError", None] * 2
    assert found == []


def test_a_failed_sync_call_leaves_no_cycle() -> None:
    """The synchronous client: the error reaches the calling thread through a future; neither
    the call's state nor the waiting frame keeps it. (The emulator runs on a loop thread of its
    own: each call here blocks the test's thread.)"""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    emu = AnthropicEmulator(api_key=KEY)
    asyncio.run_coroutine_threadsafe(emu.start(), loop).result()
    errors = []
    try:
        provider = AnthropicProvider(name="a", base_url=emu.url, api_key="wrong")
        with cr.Client(providers=[provider], max_retries=0) as client, frames_in_cycles() as found:
            for _ in range(2):
                try:
                    client.messages.create(model="claude-haiku-4-5", max_tokens=8, messages=HELLO)
                except cr.AuthenticationError as exc:
                    errors.append(exc.status_code)
    finally:
        asyncio.run_coroutine_threadsafe(emu.stop(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
    assert errors == [401, 401]
    assert found == []


def test_a_broken_bedrock_frame_leaves_no_cycle() -> None:
    """The event-stream decoder keeps the error that stopped it and raises it on every later
    feed: the kept one is never raised, so its traceback cannot hold the decoder."""
    raised = []
    with frames_in_cycles() as found:
        decoder = FrameDecoder()
        for _ in range(3):
            try:
                decoder.feed(b"\x00\x00\x00\x20" + b"\x00" * 28)  # a prelude whose CRC fails
            except FrameError as exc:
                raised.append(str(exc))
        del decoder
    assert raised == ["prelude CRC mismatch"] * 3
    assert found == []
