"""What a call will need before it is sent: its input tokens, estimated from the request's
bytes, and the output it may produce (``max_tokens``). The signals check both against a
provider's announced capacity and its budget; the cost policy prices them.

.. versionadded:: 0.2
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

__all__ = ["BINARY_TOKENS", "estimate_input_tokens", "max_tokens_of"]

_encode = msgspec.json.Encoder().encode

#: Tokens counted for one inline (base64) image or document: about what a large image costs
#: (width × height / 750, capped near 1,600 by the platform's resizing). Counting its bytes
#: instead would make any image look like a million tokens and skip providers for nothing.
BINARY_TOKENS = 1600


def _inline_bytes(blocks: Any) -> tuple[int, int]:
    """(base64 bytes, how many) in ``blocks`` and one level of tool results inside them."""
    size = count = 0
    if not isinstance(blocks, list):
        return 0, 0
    for b in blocks:
        if type(b) is not dict:
            continue
        src = b.get("source")
        if type(src) is dict and src.get("type") == "base64":
            size += len(str(src.get("data", "")))
            count += 1
        elif b.get("type") == "tool_result":
            s, n = _inline_bytes(b.get("content"))
            size, count = size + s, count + n
    return size, count


def estimate_input_tokens(params: Mapping[str, Any]) -> int:
    """A rough input estimate before sending: a quarter of the request's JSON bytes (about four
    bytes per token for English text), each inline image or document counted as
    ``BINARY_TOKENS`` rather than by its bytes."""
    try:
        size = len(_encode({k: params[k] for k in ("system", "messages", "tools") if k in params}))
    except (TypeError, msgspec.EncodeError):
        return 0
    msgs = params.get("messages")
    if isinstance(msgs, list) and size > 65_536:  # only a big body can hide inline data
        for m in msgs:
            inline, n = _inline_bytes(m.get("content") if type(m) is dict else None)
            size -= inline
            size += 4 * BINARY_TOKENS * n
    return max(0, size) // 4


def max_tokens_of(params: Mapping[str, Any]) -> int:
    """The call's ``max_tokens`` (its output bound), 0 when absent or not a positive int."""
    v = params.get("max_tokens")
    return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else 0
