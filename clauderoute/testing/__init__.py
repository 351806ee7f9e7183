"""Test your code against Claude platforms offline: emulators, fault plans, a no-sleep mode,
and a hostile server (``HostileServer``) that drips, floods and cuts its answers.

Everything here is public and stable enough for users' own test suites.
"""

from typing import Any

from .._retry import no_backoff
from ._agent import TOOL_MARKER, synthesize
from ._capacity import Capacity
from ._faults import Fault, FaultPlan, LatencyProfile
from ._google_token import GoogleTokenEndpoint
from ._hostile import Blackhole, Hostile, HostileRequest
from ._hostile_server import HostileServer
from ._keys import rsa_key_pair
from ._sdk import loop_ticks, sdk_roundtrip, split_at
from ._server import EmulatorServer, RecordedRequest, count_tokens, default_reply, message_events
from ._sigv4 import AwsKey, SigV4Verifier

__all__ = [
    "AwsKey",
    "Blackhole",
    "Capacity",
    "EmulatorServer",
    "Fault",
    "FaultPlan",
    "GoogleTokenEndpoint",
    "Hostile",
    "HostileRequest",
    "HostileServer",
    "LatencyProfile",
    "ProviderContract",
    "RecordedRequest",
    "SigV4Verifier",
    "TOOL_MARKER",
    "count_tokens",
    "default_reply",
    "loop_ticks",
    "message_events",
    "no_backoff",
    "rsa_key_pair",
    "sdk_roundtrip",
    "split_at",
    "synthesize",
]


def __getattr__(name: str) -> Any:
    # ProviderContract needs pytest; load it only when a test suite asks for it.
    if name == "ProviderContract":
        from ._contract import ProviderContract

        return ProviderContract
    if name.endswith("Emulator") and not name.startswith("_"):
        found = _installed_emulator(name)
        if found is not None:
            return found
    raise AttributeError(f"module 'clauderoute.testing' has no attribute {name!r}")


def _installed_emulator(name: str) -> Any:
    """``name`` (``AnthropicEmulator``, ``BedrockEmulator``, ...) from the emulator module of an
    installed platform package, found through the registry: the emulators live with their
    platforms, and ``from clauderoute.testing import BedrockEmulator`` reaches them once the
    package is installed. ``None``: no installed platform has one of that name.

    .. versionadded:: 0.3
    """
    import sys

    from .._errors import ConfigurationError
    from .._registry import EMULATORS, emulator_class, installed

    for kind in installed(EMULATORS):
        try:
            cls = emulator_class(kind)
        except ConfigurationError:  # a broken package does not hide the others
            continue
        package = sys.modules.get(cls.__module__.partition(".")[0])  # the platform package
        found = cls if cls.__name__ == name else getattr(package, name, None)
        if isinstance(found, type) and issubclass(found, EmulatorServer):
            globals()[name] = found  # found once per process
            return found
    return None
