"""Driving an official ``anthropic`` SDK client for fidelity tests (the SDK is not a dependency:
the caller brings its client, for whichever platform)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._provider import COUNT_TOKENS, STREAM

__all__ = ["sdk_roundtrip"]


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
