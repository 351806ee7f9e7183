"""The ``[gateway]`` table of the configuration file: keys, limits and timeouts.

::

    [gateway]
    api_keys = ["${GATEWAY_KEY}", {name = "team-a", key = "${KEY_A}"}]
    max_body_mb = 32          # larger request bodies get 413 before they are read
    max_concurrency = 1024    # requests in flight per worker; beyond it, 529 overloaded_error
    header_timeout_s = 10     # the whole request head must arrive within this (slowloris)
    body_timeout_s = 60       # the whole body must arrive within this
    idle_timeout_s = 75       # a keep-alive connection with no request is closed after this
    drain_timeout_s = 30      # on SIGTERM, in-flight streams get this long to finish
    retry_after_s = 1         # the retry-after a saturated gateway sends
    host = "127.0.0.1"        # where to listen (--host wins); a reload cannot change it
    port = 8080               # (--port wins; 0: any free port); a reload cannot change it
    workers = 1               # worker processes (--workers wins); a reload cannot change it

SIGHUP reloads the file: keys, limits, timeouts (open connections too) and ``[state]`` take
effect for new requests while requests in flight finish on the old configuration; a changed
``host``, ``port`` or ``workers`` is reported and kept until a restart.

A plain key is named by its position (``key-1``, ``key-2``...), so logs and metrics never need
the key itself. ``${VAR}`` is replaced from the environment, as everywhere in the file.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated, Any

import msgspec

from .._config import _expand, _load, find_config
from .._config_source import Source
from .._errors import ConfigurationError

__all__ = ["GatewayKey", "GatewaySettings", "is_loopback", "load_settings"]

Seconds = Annotated[float, msgspec.Meta(gt=0)]


class GatewayKey(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A client key of the gateway and the name it is logged and measured under.

    .. versionadded:: 0.3
    """

    name: str
    key: str

    def __repr__(self) -> str:
        return f"GatewayKey(name={self.name!r}, key=[secure])"


class GatewaySettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The ``[gateway]`` table (see the module docstring for each key).

    .. versionadded:: 0.3
    """

    api_keys: list[str | GatewayKey] = msgspec.field(default_factory=list)
    max_body_mb: Annotated[float, msgspec.Meta(gt=0)] = 32.0
    max_concurrency: Annotated[int, msgspec.Meta(ge=1)] = 1024
    header_timeout_s: Seconds = 10.0
    body_timeout_s: Seconds = 60.0
    idle_timeout_s: Seconds = 75.0
    drain_timeout_s: Annotated[float, msgspec.Meta(ge=0)] = 30.0
    retry_after_s: Annotated[float, msgspec.Meta(ge=0)] = 1.0
    host: str | None = None
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] | None = None
    workers: Annotated[int, msgspec.Meta(ge=1)] | None = None

    def __repr__(self) -> str:
        return (
            f"GatewaySettings(keys={[k.name for k in self.named_keys()]}, "
            f"max_body_mb={self.max_body_mb:g}, max_concurrency={self.max_concurrency})"
        )

    @property
    def max_body_bytes(self) -> int:
        """``max_body_mb`` in bytes."""
        return int(self.max_body_mb * 1024 * 1024)

    def named_keys(self) -> list[GatewayKey]:
        """Every key, plain ones named ``key-N`` by position."""
        return [
            k if isinstance(k, GatewayKey) else GatewayKey(f"key-{i}", k)
            for i, k in enumerate(self.api_keys, 1)
        ]

    def check(self) -> GatewaySettings:
        """Refuse empty keys and duplicate names (both would make a key meaningless)."""
        seen: set[str] = set()
        for i, k in enumerate(self.named_keys()):
            if not k.key:
                raise ConfigurationError(f"gateway.api_keys[{i}]: the key is empty")
            if k.name in seen:
                raise ConfigurationError(f"gateway.api_keys[{i}]: name {k.name!r} is used twice")
            seen.add(k.name)
        return self


def load_settings(path: str | os.PathLike[str] | None = None) -> GatewaySettings:
    """The ``[gateway]`` table of the configuration file (found as ``AsyncClient.from_config``
    finds it); defaults when there is no file or no table.

    Raises:
        ConfigurationError: a key is wrong (the message names it, never a key's value).

    .. versionadded:: 0.3
    """
    file = find_config(path)
    if file is None:
        return GatewaySettings()
    text, raw = _load(Path(file))
    source = Source(str(file), text)
    table: Any = raw.get("gateway", {})
    expanded = _expand(table, ("gateway",), source)
    settings: GatewaySettings = source.convert(expanded, GatewaySettings, ("gateway",))
    return settings.check()


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (``localhost`` or a loopback address)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
