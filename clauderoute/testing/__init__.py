"""Test your code against Claude platforms offline: emulators, fault plans, a no-sleep mode,
and a hostile server (``HostileServer``) that drips, floods and cuts its answers.

Everything here is public and stable enough for users' own test suites.
"""

from typing import Any

from .._retry import no_backoff
from ._agent import TOOL_MARKER, synthesize
from ._capacity import Capacity
from ._faults import Fault, FaultPlan, LatencyProfile
from ._hostile import Blackhole, Hostile, HostileRequest
from ._hostile_server import HostileServer
from ._sdk import loop_ticks, sdk_roundtrip, split_at
from ._server import EmulatorServer, RecordedRequest, count_tokens, default_reply, message_events

__all__ = [
    "Blackhole",
    "Capacity",
    "EmulatorServer",
    "Fault",
    "FaultPlan",
    "Hostile",
    "HostileRequest",
    "HostileServer",
    "LatencyProfile",
    "ProviderContract",
    "RecordedRequest",
    "TOOL_MARKER",
    "count_tokens",
    "default_reply",
    "loop_ticks",
    "message_events",
    "no_backoff",
    "sdk_roundtrip",
    "split_at",
    "synthesize",
]


def __getattr__(name: str) -> Any:
    # ProviderContract needs pytest; load it only when a test suite asks for it.
    if name == "ProviderContract":
        from ._contract import ProviderContract

        return ProviderContract
    raise AttributeError(f"module 'clauderoute.testing' has no attribute {name!r}")
