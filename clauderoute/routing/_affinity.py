"""Prompt-cache affinity keys: which cached prefix a request reads, so it can go where it is.

A platform's prompt cache is per platform (and per account): a request whose prefix was cached
on provider A reads it there at a tenth of the input price, and pays to write it again anywhere
else. So a request with ``cache_control`` breakpoints is keyed by a hash of its prefix, and the
router prefers the provider that last served that key while the cache lives.

How the key is built (the order the Claude API caches in: ``tools``, then ``system``, then
``messages``): every tool, every system block and every message content block is one *block*;
a running SHA-256 over the model name and the blocks gives a digest at each block boundary.
``cache_control`` itself is left out of the hash, because moving the breakpoint (as a chat does
at each turn) does not change what the earlier blocks cache. A string ``system`` or message
``content`` is one text block, and each message's role is hashed with its first block.

* **Write keys** (recorded after a call succeeds): the digest at each breakpoint; with
  top-level ``cache_control`` (automatic caching) also the digest at the last block.
* **Read keys** (looked up before a call): the write keys, plus the digests of up to
  ``LOOKBACK`` blocks before the last breakpoint, newest first: the API looks back that far
  for an earlier cache entry, so the previous turn's breakpoint is found after it moved.

TTL: ``"ttl": "1h"`` on a breakpoint keeps that key an hour, otherwise five minutes (the
API's two lifetimes); a read refreshes it, as it refreshes the cache.

.. versionadded:: 0.2
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec

__all__ = ["LOOKBACK", "AffinityKeys", "AffinityTable", "affinity_keys", "has_marks"]

#: Block boundaries before the last breakpoint also looked up (the API's lookback window).
LOOKBACK = 20
TTL_5M, TTL_1H = 300.0, 3600.0

_encode = msgspec.json.Encoder(order="sorted").encode


class AffinityKeys(msgspec.Struct, frozen=True):
    """A request's keys: ``write`` with each key's TTL in seconds, ``read`` newest first."""

    write: tuple[tuple[bytes, float], ...]
    read: tuple[bytes, ...]


def _ttl(block: Any) -> float | None:
    cc = block.get("cache_control") if isinstance(block, Mapping) else None
    if not isinstance(cc, Mapping):
        return None
    return TTL_1H if cc.get("ttl") == "1h" else TTL_5M


def _bare(block: Any) -> Any:
    if isinstance(block, Mapping) and "cache_control" in block:
        return {k: v for k, v in block.items() if k != "cache_control"}
    return block


def _blocks(params: Mapping[str, Any]) -> Iterator[tuple[bytes, Any]]:
    """(tag, block) in cache order."""
    tools = params.get("tools")
    if isinstance(tools, list):
        for t in tools:
            yield b"T", t
    system = params.get("system")
    if isinstance(system, str):
        yield b"S", {"type": "text", "text": system}
    elif isinstance(system, list):
        for b in system:
            yield b"S", b
    messages = params.get("messages")
    if not isinstance(messages, list):
        return
    for m in messages:
        if not isinstance(m, Mapping):
            continue
        role = str(m.get("role", "")).encode()
        content = m.get("content")
        if isinstance(content, str):
            yield b"M" + role, {"type": "text", "text": content}
        elif isinstance(content, list):
            for i, b in enumerate(content):
                yield (b"M" + role if i == 0 else b"B"), b


def affinity_keys(params: Mapping[str, Any]) -> AffinityKeys | None:
    """The cache keys of a Messages request, or ``None`` when it marks nothing for caching.

    Args:
        params: the request body (``model``, ``tools``, ``system``, ``messages``,
            ``cache_control``) as sent.
    """
    auto = _ttl(params)  # top-level cache_control: automatic caching of the whole prefix
    h = hashlib.sha256(str(params.get("model", "")).encode())
    digests: list[bytes] = []
    marks: list[tuple[int, float]] = []
    for tag, block in _blocks(params):
        try:
            h.update(tag + b"\0" + _encode(_bare(block)) + b"\0")
        except (TypeError, msgspec.EncodeError):
            return None  # not JSON: the request will be refused anyway
        digests.append(h.copy().digest()[:16])
        ttl = _ttl(block)
        if ttl is not None:
            marks.append((len(digests) - 1, ttl))
    if auto is not None and digests:
        marks.append((len(digests) - 1, auto))
    if not marks:
        return None
    write = tuple({digests[i]: ttl for i, ttl in marks}.items())
    last = max(i for i, _ in marks)
    read = [d for d, _ in reversed(write)]
    read += [
        digests[i]
        for i in range(last - 1, max(-1, last - 1 - LOOKBACK), -1)
        if digests[i] not in read
    ]
    return AffinityKeys(write, tuple(read))


class AffinityTable:
    """key → (provider, expiry), least recently used first out past ``max_keys``.

    Args:
        max_keys: bound on keys kept (memory stays bounded however many prefixes are seen).

    .. versionadded:: 0.2
    """

    def __init__(self, max_keys: int = 10_000) -> None:
        self.max_keys = max_keys
        self._keys: OrderedDict[bytes, tuple[str, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, keys: tuple[bytes, ...], now: float) -> str | None:
        """The provider holding the newest live key of ``keys``, if any."""
        for k in keys:
            hit = self._keys.get(k)
            if hit is None:
                continue
            if hit[1] <= now:
                del self._keys[k]
                continue
            self._keys.move_to_end(k)
            return hit[0]
        return None

    def put(self, keys: tuple[tuple[bytes, float], ...], provider: str, now: float) -> None:
        """``provider`` served (and so cached) ``keys``; each lives for its TTL from now."""
        for k, ttl in keys:
            self._keys[k] = (provider, now + ttl)
            self._keys.move_to_end(k)
        while len(self._keys) > self.max_keys:
            self._keys.popitem(last=False)


def has_marks(params: Mapping[str, Any]) -> bool:
    """Whether any block carries ``cache_control`` (a cheap scan before hashing)."""
    if "system" in params or "tools" in params:
        for key in ("system", "tools"):
            v = params.get(key)
            if isinstance(v, list) and _any_marked(v):
                return True
    msgs = params.get("messages")
    if isinstance(msgs, list):
        for m in msgs:
            if type(m) is dict:
                c = m.get("content")
                if type(c) is str:  # the usual message: plain text, nothing to mark
                    continue
            elif isinstance(m, Mapping):
                c = m.get("content")
            else:
                continue
            if isinstance(c, list) and _any_marked(c):
                return True
    return False


def _any_marked(blocks: list[Any]) -> bool:
    for b in blocks:  # a dict first: the isinstance check against Mapping (an ABC) costs more
        if (type(b) is dict or isinstance(b, Mapping)) and "cache_control" in b:
            return True
    return False
