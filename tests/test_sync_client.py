"""The synchronous ``Client``: the async core on one private loop thread per client.

The emulator runs on its own loop thread, since every call here blocks the test's thread.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from clauderoute_anthropic import AnthropicEmulator, AnthropicProvider

import clauderoute as cr
from clauderoute._resources._base import Resource
from clauderoute.testing import LatencyProfile

MODEL = "claude-haiku-4-5"
HELLO = [{"role": "user", "content": "Hello there"}]
LOOP_THREAD = "clauderoute-client-loop"


@pytest.fixture(scope="module")
def emu() -> Iterator[AnthropicEmulator]:
    """The Claude API emulator on its own loop thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = AnthropicEmulator()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result()
    yield server
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result()
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


@pytest.fixture
def client(emu: AnthropicEmulator) -> Iterator[cr.Client]:
    """A sync client of the emulator, closed after the test."""
    emu.latency = LatencyProfile()
    with cr.Client(providers=[AnthropicProvider(base_url=emu.url, api_key="test-anthropic-key",
                                                max_retries=0)]) as c:
        yield c


def loop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == LOOP_THREAD]


async def _others() -> list[str]:
    me = asyncio.current_task()
    return [repr(t) for t in asyncio.all_tasks() if t is not me]


def public(obj: Any) -> set[str]:
    return {n for n in dir(obj) if not n.startswith("_") and callable(getattr(obj, n))}


def test_same_surface_as_the_async_client(client: cr.Client) -> None:
    """Every public method of every async resource has its sync twin."""
    a = client.async_client
    pairs = [(a.messages, client.messages), (a.messages.batches, client.messages.batches),
             (a.messages.with_raw_response, client.messages.with_raw_response),
             (a.models, client.models), (a.beta.files, client.beta.files),
             (a.beta.skills, client.beta.skills),
             (a.beta.skills.versions, client.beta.skills.versions)]
    internal = public(Resource)  # the async resources' shared plumbing (``target``)
    for theirs, ours in pairs:
        assert public(theirs) - internal <= public(ours), type(theirs).__name__
    assert not inspect.iscoroutinefunction(client.messages.create)


def test_create_stream_and_count(client: cr.Client) -> None:
    """create, stream (text and final message), raw events and count_tokens, synchronously."""
    msg = client.messages.create(model=MODEL, max_tokens=32, messages=HELLO)
    assert msg.text == "Echo: Hello there" and msg.route is not None
    with client.messages.stream(model=MODEL, max_tokens=32, messages=HELLO) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == final.text == "Echo: Hello there" and final.route == stream.route
    events = client.messages.create(model=MODEL, max_tokens=32, messages=HELLO, stream=True)
    with events:
        kinds = [ev.type for ev in events]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert client.messages.count_tokens(model=MODEL, messages=HELLO).input_tokens > 0


def test_leaving_a_stream_early_closes_it(client: cr.Client, emu: AnthropicEmulator) -> None:
    """Breaking out of a sync stream and leaving the block drops the connection."""
    emu.latency = LatencyProfile(per_token_s=0.05)
    long = [{"role": "user", "content": " ".join(["word"] * 60)}]
    with client.messages.stream(model=MODEL, max_tokens=100, messages=long) as stream:
        for _event in stream:
            break
    assert client._runner.run(_others()) == []
    assert stream.get_final_message().stop_reason is None  # what arrived before the break


def test_many_threads_share_one_client(client: cr.Client, emu: AnthropicEmulator) -> None:
    """Calls from many threads run concurrently on the one loop thread, each gets its answer."""
    before = len(emu.requests)

    def ask(i: int) -> str:
        return client.messages.create(model=MODEL, max_tokens=32,
                                      messages=[{"role": "user", "content": f"n {i}"}]).text

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(ask, range(40)))
    assert answers == [f"Echo: n {i}" for i in range(40)]
    assert len(emu.requests) - before == 40
    assert client._runner.thread.is_alive() and client._runner.run(_others()) == []


def test_close_stops_the_thread_and_refuses_calls(emu: AnthropicEmulator) -> None:
    """close() joins the loop thread; a later call says the client is closed."""
    before = set(loop_threads())
    c = cr.Client(providers=[AnthropicProvider(base_url=emu.url, api_key="test-anthropic-key")])
    c.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
    mine = set(loop_threads()) - before
    assert len(mine) == 1
    c.close()
    c.close()  # twice is fine
    assert not next(iter(mine)).is_alive()
    with pytest.raises(RuntimeError, match="closed"):
        c.messages.create(model=MODEL, max_tokens=8, messages=HELLO)


def test_a_dropped_client_leaks_no_thread(emu: AnthropicEmulator) -> None:
    """A client garbage-collected without close() stops its loop thread."""
    before = set(loop_threads())
    c = cr.Client(providers=[AnthropicProvider(base_url=emu.url, api_key="test-anthropic-key")])
    c.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
    (thread,) = set(loop_threads()) - before
    del c
    gc.collect()
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_with_options_shares_the_loop_and_the_pool(client: cr.Client) -> None:
    """A copy runs on the same thread and engine; closing it leaves the original working."""
    copy = client.with_options(max_retries=5, timeout=30.0)
    assert copy._runner is client._runner
    assert copy.async_client.engine is client.async_client.engine
    assert copy.providers[0].max_retries == 5 and client.providers[0].max_retries == 0
    copy.close()
    assert client.messages.create(model=MODEL, max_tokens=8, messages=HELLO).text


class _Interrupt(BaseException):
    """What a signal handler raises in the waiting thread (as KeyboardInterrupt would be)."""


def test_an_interrupted_caller_cancels_its_call(client: cr.Client,
                                                emu: AnthropicEmulator) -> None:
    """An exception raised in the waiting thread cancels the call's task on the loop thread
    before it propagates; the client keeps working."""
    emu.latency = LatencyProfile(ttft_s=3)
    before = len(emu.requests)
    main = threading.main_thread().ident
    assert threading.get_ident() == main

    def interrupt(signum: int, frame: Any) -> None:
        raise _Interrupt

    def when_sent() -> None:
        while len(emu.requests) == before:
            time.sleep(0.01)
        signal.pthread_kill(main, signal.SIGUSR1)  # type: ignore[arg-type]

    old = signal.signal(signal.SIGUSR1, interrupt)
    try:
        threading.Thread(target=when_sent, daemon=True).start()
        with pytest.raises(_Interrupt):
            client.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
    finally:
        signal.signal(signal.SIGUSR1, old)
    assert client._runner.run(_others()) == []  # the call's task is gone, not left running
    emu.latency = LatencyProfile()
    assert client.messages.create(model=MODEL, max_tokens=8, messages=HELLO).text


def test_pages_and_downloads_iterate_synchronously(client: cr.Client) -> None:
    """Lists auto-paginate with a plain for loop; a download reads synchronously."""
    models = list(client.models.list(limit=1))
    first = client.models.list(limit=1)
    assert len(first.data) == 1 and len(models) >= 2 and models[0].id == first.data[0].id
    meta = client.beta.files.upload(file=("a.txt", b"hello", "text/plain"))
    with client.beta.files.download(meta.id) as content:
        assert content.read() == b"hello"
    assert meta.id in [f.id for f in client.beta.files.list()]
    client.beta.files.delete(meta.id)


def test_raw_response_and_errors(client: cr.Client, emu: AnthropicEmulator) -> None:
    """with_raw_response gives headers and status; a platform error carries its body."""
    raw = client.messages.with_raw_response.create(model=MODEL, max_tokens=8, messages=HELLO)
    assert raw.status_code == 200 and raw.parse().text
    assert raw.headers["Anthropic-RateLimit-Requests-Remaining"] == "3999"
    bad = client.with_options(api_key="wrong", max_retries=0)
    with pytest.raises(cr.AuthenticationError) as info:
        bad.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
    assert info.value.body["error"]["type"] == "authentication_error"
    assert info.value.response is not None and info.value.response.status_code == 401


def test_calling_from_the_loop_thread_is_refused(client: cr.Client) -> None:
    """A hook that calls the sync client from its own loop gets an error, not a deadlock."""
    async def inner() -> str:
        try:
            client.messages.count_tokens(model=MODEL, messages=HELLO)
        except RuntimeError as exc:
            return str(exc)
        return "no error"
    assert "own event loop" in client._runner.run(inner())
