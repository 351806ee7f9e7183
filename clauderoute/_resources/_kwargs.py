"""The keyword arguments of the Messages methods, for type checkers (``Unpack[...]``).

Each is a request body ``TypedDict`` plus ``RequestOptions``; at run time the methods still take
``**params`` and build nothing extra, so the typed signatures cost nothing per call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Required

from ..types._params import (
    MessageCountTokensParams,
    MessageCreateParamsBase,
    MessageCreateParamsNonStreaming,
    MessageCreateParamsStreaming,
    RequestOptions,
)

__all__ = ["CountTokensKwargs", "CreateKwargs", "CreateMaybeStreamKwargs",
           "CreateStreamKwargs", "StreamKwargs"]


class CreateKwargs(MessageCreateParamsNonStreaming, RequestOptions, total=False):
    """``messages.create(...)``: a whole ``Message``; ``fallback_models``: the models to try,
    in order, when every provider failed the requested one for lack of availability;
    ``conversation``: a key that keeps a conversation on the model a refusal moved it to."""

    fallback_models: Sequence[str] | None
    conversation: str | None


class CreateStreamKwargs(MessageCreateParamsStreaming, RequestOptions, total=False):
    """``messages.create(..., stream=True)``: the raw events."""


class CreateMaybeStreamKwargs(MessageCreateParamsBase, RequestOptions, total=False):
    """``messages.create(..., stream=flag)`` with a ``bool`` known only at run time."""

    stream: Required[bool]


class StreamKwargs(MessageCreateParamsBase, RequestOptions, total=False):
    """``messages.stream(...)``."""


class CountTokensKwargs(MessageCountTokensParams, RequestOptions, total=False):
    """``messages.count_tokens(...)``."""
