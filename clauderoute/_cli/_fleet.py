"""The emulated fleet: every installed platform emulator on loopback, each with its provider.

Emulators are discovered in the ``clauderoute.emulators`` entry-point group, so a platform
package that lands later joins ``demo`` and ``bench`` by being installed. What is per platform is
only the table below: how to give an emulator and its provider the same credential, and a latency
profile. Credentials are derived from the run's seed, never printed, and only valid on loopback.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._errors import ClauderouteError
from .._provider import Provider
from .._registry import EMULATORS, emulator_class, installed, provider_class
from ..testing import EmulatorServer, Fault, FaultPlan, LatencyProfile

__all__ = ["DEFAULT_PROFILE", "PROFILES", "Fleet", "Member", "demo_faults", "lone_faults",
           "secret_for", "start_fleet"]

Settings = Callable[[str, type], tuple[dict[str, Any], dict[str, Any]]]


def _bedrock(secret: str, emulator: type) -> tuple[dict[str, Any], dict[str, Any]]:
    """SigV4, as most Bedrock users sign: the emulator verifies with its own key class."""
    aws_key = importlib.import_module(emulator.__module__).AwsKey
    key_id = "AKIA" + secret[-16:].upper()
    return ({"keys": {key_id: aws_key(secret)}, "region": "us-east-1"},
            {"access_key": key_id, "secret_key": secret, "region": "us-east-1"})


def _aws(secret: str, emulator: type) -> tuple[dict[str, Any], dict[str, Any]]:
    """Claude Platform on AWS with SigV4, in the demo's workspace."""
    aws_key = importlib.import_module(emulator.__module__).AwsKey
    key_id = "AKIA" + secret[-16:].upper()
    workspace = "wrkspc_01ClauderouteDemo"
    return ({"keys": {key_id: aws_key(secret)}, "region": "us-west-2",
             "workspaces": [workspace]},
            {"access_key": key_id, "secret_key": secret, "region": "us-west-2",
             "workspace_id": workspace})


# platform id -> (secret, emulator class) -> (emulator kwargs, provider kwargs besides name,
# base_url and max_retries).
_SETTINGS: dict[str, Settings] = {
    "anthropic": lambda s, _: ({"api_key": s}, {"api_key": s}),
    "foundry": lambda s, _: ({"api_key": s}, {"api_key": s}),
    "vertex": lambda s, _: ({"project": "clauderoute-demo", "tokens": [s]},
                            {"project": "clauderoute-demo", "region": "us-east5",
                             "access_token": s}),
    "bedrock": _bedrock,
    "aws": _aws,
    # The emulator's url is its workspace root: the provider needs only the token.
    "google-cloud": lambda s, _: ({"project": "clauderoute-demo", "tokens": [s]},
                                  {"access_token": s}),
}

#: Emulated latency per platform (time to first token, per output token, and a uniform jitter
#: added to every wait, so about half of it lands on each token), in seconds. Plausible
#: magnitudes for a mid-size Claude model (40-70 output tokens/s); they exercise the client and
#: the routing, not the model.
PROFILES: dict[str, LatencyProfile] = {
    "anthropic": LatencyProfile(ttft_s=0.30, per_token_s=0.012, jitter_s=0.006),
    "bedrock": LatencyProfile(ttft_s=0.42, per_token_s=0.014, jitter_s=0.010),
    "vertex": LatencyProfile(ttft_s=0.38, per_token_s=0.013, jitter_s=0.008),
    "foundry": LatencyProfile(ttft_s=0.48, per_token_s=0.016, jitter_s=0.012),
    # Anthropic's own serving behind a cloud's front door: the Claude API's plus a hop.
    "aws": LatencyProfile(ttft_s=0.33, per_token_s=0.012, jitter_s=0.007),
    "google-cloud": LatencyProfile(ttft_s=0.34, per_token_s=0.012, jitter_s=0.007),
}
DEFAULT_PROFILE = LatencyProfile(ttft_s=0.40, per_token_s=0.015, jitter_s=0.008)


def secret_for(kind: str, seed: int) -> str:
    """The loopback credential of ``kind``'s emulator in a run with ``seed``."""
    return "emu-" + hashlib.sha256(f"clauderoute:{kind}:{seed}".encode()).hexdigest()[:24]


@dataclass
class Member:
    """One platform of the fleet: its emulator, its provider and the profile it runs with."""

    kind: str
    emulator: EmulatorServer
    provider: Provider
    profile: LatencyProfile
    secret: str = field(repr=False)

    @property
    def name(self) -> str:
        """The provider's configured name (the deployment label)."""
        return self.provider.name


@dataclass
class Fleet:
    """The running emulators; ``skipped`` says which installed platforms could not join."""

    members: list[Member]
    skipped: list[str]

    @property
    def providers(self) -> list[Provider]:
        """The providers, in fleet order."""
        return [m.provider for m in self.members]

    def secrets(self) -> list[str]:
        """Every credential in use (for the tests' secret scan)."""
        return [m.secret for m in self.members]

    async def stop(self) -> None:
        """Stop every emulator."""
        for m in self.members:
            await m.emulator.stop()


def _scaled(profile: LatencyProfile, scale: float) -> LatencyProfile:
    return LatencyProfile(ttft_s=profile.ttft_s * scale, per_token_s=profile.per_token_s * scale,
                          jitter_s=profile.jitter_s * scale)


async def start_fleet(*, seed: int = 0, scale: float = 1.0, max_retries: int = 2,
                      faults: Callable[[int, str], FaultPlan] | None = None,
                      kinds: list[str] | None = None) -> Fleet:
    """Start every installed emulator (or those of ``kinds``) on loopback.

    Args:
        seed: seeds credentials, jitter and fault plans.
        scale: multiplies every latency (``--quick`` runs use less than 1).
        max_retries: each provider's retry budget.
        faults: ``(position, kind) -> FaultPlan`` for each member, in fleet order.
        kinds: the platform ids to start (default: every installed emulator).
    """
    members: list[Member] = []
    skipped: list[str] = []
    for kind in kinds if kinds is not None else installed(EMULATORS):
        settings = _SETTINGS.get(kind)
        if settings is None:
            skipped.append(f"{kind}: no demo settings known for this platform")
            continue
        secret = secret_for(kind, seed)
        profile = _scaled(PROFILES.get(kind, DEFAULT_PROFILE), scale)
        plan = faults(len(members), kind) if faults else FaultPlan(seed=seed)
        try:
            cls = emulator_class(kind)
            emu_kw, prov_kw = settings(secret, cls)
            emu = cls(latency=profile, faults=plan, seed=seed, **emu_kw)
            await emu.start()
        except (ClauderouteError, TypeError, AttributeError, ImportError, OSError) as exc:
            skipped.append(f"{kind}: emulator did not start ({type(exc).__name__})")
            continue
        try:
            provider = provider_class(kind)(name=kind, base_url=emu.url, max_retries=max_retries,
                                            **prov_kw)
        except (ClauderouteError, TypeError) as exc:
            await emu.stop()
            skipped.append(f"{kind}: provider could not be built ({type(exc).__name__})")
            continue
        members.append(Member(kind, emu, provider, profile, secret))
    return Fleet(members, skipped)


def lone_faults(position: int, kind: str) -> FaultPlan:
    """The demo's faults for a platform alone: a 529, then a dropped connection, each of which
    its provider's retries absorb (a stream error after the first event would reach the
    caller: no other platform can take over)."""
    plan = FaultPlan(seed=position)
    plan.add(Fault(status=529), Fault(reset=True))
    return plan


def demo_faults(position: int, kind: str) -> FaultPlan:
    """The demo's faults: the primary is overloaded (a 529, then an in-stream overload, then a
    dropped connection); the second answers one 503 (with retries off, a failover)."""
    plan = FaultPlan(seed=position)
    stream = frozenset({"messages.stream"})
    if position == 0:
        plan.add(Fault(status=529), Fault(stream_error="overloaded_error", after_events=1,
                                          operations=stream))
        plan.add(Fault(reset=True))
    elif position == 1:
        plan.add(Fault(status=503))
    return plan
