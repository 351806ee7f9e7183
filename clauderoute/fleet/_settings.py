"""``[state]``: where a fleet shares its routing state (a Redis or Valkey URL) and how often.

The URL may carry a password (``redis://:${REDIS_PASSWORD}@host:6379/0``); it is kept out of
every repr, log line and error this package writes (``redacted``).

.. versionadded:: 0.2
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import msgspec

from .._errors import ConfigurationError

__all__ = ["STATE_URL_ENV", "StateSettings", "redacted", "state_settings"]

#: Environment variable that supplies (or overrides) ``[state] url``.
STATE_URL_ENV = "CLAUDEROUTE_STATE_URL"

_SCHEMES = ("redis", "rediss", "unix", "redis+sentinel", "rediss+sentinel")
_USERINFO = re.compile(r"(?<=://)[^@/]*@")


def redacted(url: str) -> str:
    """``url`` without its user and password (``redis://***@host:6379/0``)."""
    return _USERINFO.sub("***@", url)


class StateSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The ``[state]`` table.

    Attributes:
        url: ``redis://``, ``rediss://`` (TLS), ``unix://`` or ``redis+sentinel://h1:26379,
            h2:26379/SERVICE/DB``; ``?cluster=true`` on a ``redis(s)://`` URL uses Redis Cluster.
        prefix: namespace of every key and channel (several routers may share one Redis).
        sync_ms: how often changes are published and merged (the staleness bound).
        op_timeout_ms: the longest one Redis operation may take before it counts as a failure.
        max_backoff_ms: the longest wait between two reconnection attempts during an outage
            (the wait starts at ``sync_ms`` and doubles, with jitter, up to this).

    .. versionadded:: 0.2
    """

    url: str
    prefix: str = "clauderoute"
    sync_ms: int = 100
    op_timeout_ms: int = 250
    max_backoff_ms: int = 5000

    def __post_init__(self) -> None:
        scheme = urlsplit(self.url).scheme if "://" in self.url else ""
        if scheme not in _SCHEMES:
            raise ConfigurationError(
                f"state.url: expected one of {', '.join(_SCHEMES)} URLs, got {redacted(self.url)!r}"
            )
        if not self.prefix or any(c in self.prefix for c in " {}\n"):
            raise ConfigurationError(
                f"state.prefix: must be non-empty, without spaces or braces, not {self.prefix!r}"
            )
        if isinstance(self.sync_ms, bool) or not 5 <= self.sync_ms <= 250:
            raise ConfigurationError(f"state.sync_ms: must be 5 to 250, not {self.sync_ms!r}")
        if isinstance(self.op_timeout_ms, bool) or not 1 <= self.op_timeout_ms <= 60_000:
            raise ConfigurationError(
                f"state.op_timeout_ms: must be 1 to 60000, not {self.op_timeout_ms!r}"
            )
        if isinstance(self.max_backoff_ms, bool) or not 10 <= self.max_backoff_ms <= 300_000:
            raise ConfigurationError(
                f"state.max_backoff_ms: must be 10 to 300000, not {self.max_backoff_ms!r}"
            )

    @property
    def cluster(self) -> bool:
        """Whether the URL asks for Redis Cluster."""
        return "cluster=true" in urlsplit(self.url).query.lower()

    def __repr__(self) -> str:
        return (
            f"StateSettings(url={redacted(self.url)!r}, prefix={self.prefix!r}, "
            f"sync_ms={self.sync_ms})"
        )

    __str__ = __repr__


def state_settings(
    table: Mapping[str, Any] | None, env: Mapping[str, str] | None = None
) -> StateSettings | None:
    """The ``[state]`` table (already ``${VAR}``-expanded) as settings; ``$CLAUDEROUTE_STATE_URL``
    supplies or overrides ``url``. ``None``: no table and no variable (state stays in-process).

    Raises:
        ConfigurationError: a key is unknown or wrong (the message names it, never the password).
    """
    env = os.environ if env is None else env
    data = dict(table or {})
    if env.get(STATE_URL_ENV):
        data["url"] = env[STATE_URL_ENV]
    if not data:
        return None
    if "url" not in data:
        raise ConfigurationError(f"state.url: required (or set ${STATE_URL_ENV})")
    try:
        return msgspec.convert(data, StateSettings)
    except msgspec.ValidationError as exc:
        msg = str(exc)
        url = data.get("url")
        if isinstance(url, str) and url:
            msg = msg.replace(url, redacted(url))
        raise ConfigurationError(f"state: {msg}") from None
