"""Which providers may serve a call, in what order, and which are healthy: the router's planning.

``plan`` is cached per (operation, needs, betas) when its answer cannot depend on anything else:
no ``only`` list, the failover policy (the configured order) and providers that keep the base
``cannot_serve``; an entry holds the capabilities it was computed from and is recomputed when a
provider's (frozen) ``Capabilities`` object is replaced. ``healthy`` skips the breaker lookups
while no circuit is open or half-open.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from .. import _errors as E
from .._provider import Action, Call, Capabilities, Provider
from .._retry import testing_no_backoff
from ._breaker import CircuitBreaker
from ._outcome import next_index
from ._policy import Failover, Policy

__all__ = ["Planner", "skip_reason"]

_Plan = tuple[tuple[Any, ...], list[Provider], list[str]]


class Planner:
    """Planning half of ``Router`` (the attributes it reads are the router's)."""

    providers: list[Provider]
    by_name: dict[str, Provider]
    policy: Policy
    breaker: CircuitBreaker | None
    _plans: dict[tuple[Any, ...], _Plan]

    def plan(self, call: Call, only: Sequence[str] | None = None,
             skipped: list[str] | None = None) -> list[Provider]:
        """Providers that can serve ``call``, in the policy's order; the reason each other
        provider was skipped is appended to ``skipped``.

        Raises:
            UnknownPlatformError: ``only`` names a provider that is not configured.
            CapabilityError: none can serve it (the message says what is missing where).
        """
        key = (call.operation, call.needs, call.betas)
        hit = self._plans.get(key) if only is None else None
        if hit is not None:  # still valid: the same policy, providers and capabilities
            policy, caps = hit[0]
            provs = self.providers
            if policy is self.policy and len(caps) == len(provs):
                for p, (q, c) in zip(provs, caps):  # a loop, no generator (zip: same length)
                    if p is not q or p.capabilities is not c:
                        break
                else:
                    if skipped is not None:
                        skipped += hit[2]
                    return list(hit[1])
        ordered, why = self._plan(call, only)
        if only is None and type(self.policy).order is Failover.order and all(
                type(p).cannot_serve is Provider.cannot_serve
                and type(p.capabilities).missing is Capabilities.missing for p in self.providers):
            if len(self._plans) >= 256:
                self._plans.clear()
            token = (self.policy, tuple((p, p.capabilities) for p in self.providers))
            self._plans[key] = (token, ordered, why)
            ordered = list(ordered)
        if skipped is not None:
            skipped += why
        return ordered

    def _plan(self, call: Call, only: Sequence[str] | None) -> tuple[list[Provider], list[str]]:
        if only is not None:
            missing = [n for n in only if n not in self.by_name]
            if missing:
                raise E.UnknownPlatformError(
                    f"no configured provider named {', '.join(missing)}; "
                    f"configured: {', '.join(self.by_name)}")
            pool = [self.by_name[n] for n in only]
        else:
            pool = self.providers
        able, why = [], []
        for p in pool:
            reason = p.capabilities.missing(call) or p.cannot_serve(call)
            if reason is None:
                able.append(p)
            else:
                why.append(f"{p.name} ({p.platform}): {reason}")
        ordered = able if only is not None else self.policy.order(able, call)
        if not ordered:
            detail = "; ".join(why) or f"policy {self.policy.name} chose none"
            raise E.CapabilityError("no provider can serve this request: " + detail)
        return ordered, why

    async def _healthy(self, plan: list[Provider], call: Call, deadline: float | None,
                       skipped: list[str], claims: dict[str, int]) -> list[Provider]:
        """Drop providers whose circuit is open, or half-open with its one probe taken by
        another call. The first provider's probe, if it is half-open, is claimed now (into
        ``claims``, which the caller releases when the call ends); a later one's only when an
        attempt really goes there (``admit``), so a call served by the first never holds back
        another call's probe. If every circuit is still cooling down, wait for the first to
        recover (never past ``deadline``); if the rest are being probed, fail."""
        breaker = self.breaker
        if breaker is None or not breaker.tripped:
            return plan
        model = str(call.params.get("model", ""))
        while True:
            healthy, why = [], []
            for p in plan:
                if breaker.available(p.name, model):
                    healthy.append(p)
                else:
                    why.append(skip_reason(breaker, p, model))
            if healthy:
                self.admit(healthy[0], model, claims)  # no await since the check: it holds
                skipped += why
                return healthy
            # Those half-open with another call's probe in flight have no time to wait for.
            waits = [w for p in plan if (w := breaker.retry_in(p.name, model)) > 0]
            wait = min(waits, default=0.0)
            if wait <= 0:  # nothing cooling: every one is half-open with a probe in flight
                raise E.AllPlatformsFailed(
                    f"no provider is available for {model}: {'; '.join(why)}",
                    attempts=[], errors=[])
            loop = asyncio.get_running_loop()
            if deadline is not None and loop.time() + wait >= deadline:
                raise E.AllPlatformsFailed(
                    f"every provider's circuit is open for {model}; the first recovers in "
                    f"{wait:.1f}s, after the deadline", attempts=[], errors=[])
            if testing_no_backoff():
                return plan  # tests that remove sleeping keep the old shortcut
            await asyncio.sleep(wait)

    def admit(self, p: Provider, model: str, claims: dict[str, int]) -> bool:
        """Whether an attempt may go to ``p`` now: its circuit is closed, or half-open with the
        probe held (or now claimed) by this call."""
        breaker = self.breaker
        if breaker is None or not breaker.tripped:
            return True
        held = claims.get(p.name)
        if held is not None and breaker.holds(p.name, model, held):
            return True
        claim = breaker.claim(p.name, model)
        if claim is None:
            return False
        if claim:
            claims[p.name] = claim
        return True

    def release(self, model: str, claims: dict[str, int]) -> None:
        """Give back the probes this call claimed but whose outcome it never recorded."""
        if self.breaker is not None:
            for name, claim in claims.items():
                self.breaker.release(name, model, claim)

    def _next_admitted(self, plan: list[Provider], idx: int, tries: list[int], action: Action,
                       call: Call, claims: dict[str, int], skipped: list[str]) -> int | None:
        """The next attempt's plan index whose circuit admits it now (a circuit may have opened
        during this call, or this call's own probe failed: one probe per cooldown)."""
        while True:
            nxt = next_index(plan, idx, tries, action)
            if nxt is None or self.breaker is None or not self.breaker.tripped:
                return nxt
            model = str(call.params.get("model", ""))
            p = plan[nxt]
            if self.admit(p, model, claims):
                return nxt
            skipped.append(skip_reason(self.breaker, p, model))
            tries[nxt] = p.max_retries + 1


def skip_reason(breaker: CircuitBreaker, p: Provider, model: str) -> str:
    """Why the breaker kept ``p`` out of a call (``RouteInfo.skipped``)."""
    state = "circuit_half_open (probe in flight)" if breaker.state(p.name, model) == 1 \
        else "circuit_open"
    return f"{p.name} ({p.platform}): {state}"
