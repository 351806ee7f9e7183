"""Test your code against Claude platforms offline: emulators, fault plans, a no-sleep mode.

Everything here is public and stable enough for users' own test suites.
"""

from ._faults import Fault, FaultPlan, LatencyProfile
from ._server import EmulatorServer, RecordedRequest, count_tokens, default_reply, message_events

__all__ = [
    "EmulatorServer",
    "Fault",
    "FaultPlan",
    "LatencyProfile",
    "RecordedRequest",
    "count_tokens",
    "default_reply",
    "message_events",
]
