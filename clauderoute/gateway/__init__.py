"""``clauderoute serve``: a Claude-API-compatible HTTP gateway on the library's router.

Any client that speaks the Claude API — the official SDKs, Claude Code, curl — points its base
URL at the gateway (``ANTHROPIC_BASE_URL=http://127.0.0.1:8080``) and gets the library's
routing, failover, breakers and tracing, whichever platform serves. Configured by the
``[gateway]`` table of the library's configuration file (``GatewaySettings``).

.. versionadded:: 0.3
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_names
from ._auth import KeyRing
from ._serve import LISTEN_DEFAULTS, check_listen, listen_on, listen_socket, serve, supervise
from ._settings import GatewayKey, GatewaySettings, is_loopback, load_settings

if TYPE_CHECKING:
    from ._app import ACCESS_LOG, Exchange, Gateway

__all__ = [
    "ACCESS_LOG",
    "LISTEN_DEFAULTS",
    "Exchange",
    "Gateway",
    "GatewayKey",
    "GatewaySettings",
    "KeyRing",
    "check_listen",
    "is_loopback",
    "listen_on",
    "listen_socket",
    "load_settings",
    "serve",
    "supervise",
]


# Loaded on first use: the application (aiohttp's server, the client), which a ``--workers``
# supervisor, starting and watching processes, never needs (~0.3 s of CPU at its start).
_LAZY = {"ACCESS_LOG": "._app", "Exchange": "._app", "Gateway": "._app"}

if not TYPE_CHECKING:
    __getattr__ = lazy_names(__name__, _LAZY, globals())
