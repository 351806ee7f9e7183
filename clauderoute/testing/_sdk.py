"""Helpers for providers' own tests: cutting a byte stream anywhere, driving an official ``anthropic`` SDK client for fidelity
tests (the SDK is not a dependency: the caller brings its client, for whichever platform), and
checking that a blocking credential call does not stall the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, TypeVar

from .._provider import COUNT_TOKENS, STREAM

__all__ = ["loop_ticks", "sdk_roundtrip", "split_at"]

T = TypeVar("T")


def split_at(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    """``data`` cut at the offsets ``cuts`` (each taken modulo ``len(data) + 1``; empty pieces
    kept): the chunks of a property test that an incremental decoder gives the same result
    for any split of its input.

    .. versionadded:: 0.1
    """
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


async def loop_ticks(awaitable: Awaitable[T], interval: float = 0.01) -> tuple[T, int]:
    """Await ``awaitable`` while a ticker counts the event loop's turns every ``interval``
    seconds; return its result and the count. A call that blocks the loop (a credential
    library's synchronous HTTP round trip run in place) leaves the count at 0 or 1; one run
    off the loop lets it grow with the time the call takes.

    .. versionadded:: 0.1
    """
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(interval)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        result = await awaitable
    finally:
        task.cancel()
    return result, ticks


async def sdk_roundtrip(sdk: Any, operation: str, params: Mapping[str, Any],
                        betas: Sequence[str] = ()) -> None:
    """Make one ``operation`` call (``messages.create``, ``messages.stream`` or
    ``messages.count_tokens``) with ``params`` through ``sdk``, an official SDK async client
    (``AsyncAnthropic``, ``AsyncAnthropicBedrock``, ``AsyncAnthropicVertex``…) pointed at an
    emulator, then close the client: the reference request that a fidelity test compares with
    what a provider prepares for the same parameters. With ``betas``, the SDK's beta client
    sends them (a create).

    .. versionadded:: 0.1
    """
    try:
        if betas:
            await sdk.beta.messages.create(**params, betas=list(betas))
        elif operation == STREAM:
            async with sdk.messages.stream(**params) as stream:
                await stream.get_final_message()
        elif operation == COUNT_TOKENS:
            await sdk.messages.count_tokens(**params)
        else:
            await sdk.messages.create(**params)
    finally:
        await sdk.close()
