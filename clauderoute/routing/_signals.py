"""Routing on what the platforms say: capacity, budgets, cache affinity and cost, per call.

``Signals`` sits beside the router and does two things:

* **Before the first attempt** (``admit``): a provider whose last answer for the model said it
  is out of requests, or has fewer tokens left than the call needs (estimated input +
  ``max_tokens``), is skipped until its reset, and so is one whose client-side budget is spent;
  each skip is recorded in ``msg.route.skipped`` with its reason (``rate_limited: …`` or
  ``budget: …``). If every candidate is skipped the call waits for the earliest one when the
  deadline allows, else fails with ``AllPlatformsFailed`` naming each reason. A request with
  prompt-cache breakpoints goes first to the provider that last served its prefix (when that
  provider is still a candidate: healthy and not exhausted).
* **After each attempt** (as an ``Observer``): the answer's rate-limit headers (through
  ``Provider.rate_limits``), the billed usage (budgets) and the cache keys it wrote are stored
  in the ``RouteState`` (the keys, in this process's own state, once anything can read them:
  ``InProcessState.affinity_wanted``); ``finish`` adds the answer's cost to ``msg.route``.

The budget of the first provider admitted is taken in ``admit`` (check and take in one step,
before any await, so concurrent calls cannot pass on the same free slot); a failover or hedge
attempt takes it as it starts, if it fits, and otherwise goes anyway (it is already a second
choice; refusing it would turn a failover into a failure). Every attempt's request counts as
in flight (``RouteState.capacity_start``/``capacity_end``) until its answer ends, and the
capacity check counts in-flight requests as spent, so a burst of concurrent calls does not
all pass on the last request a provider announced.

.. versionadded:: 0.2
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from .. import _errors as E
from .._provider import CREATE, STREAM, Call, HttpResponse, Provider
from .._ratelimits import RATE_LIMIT_HEADERS
from .._retry import testing_no_backoff
from ..types._messages import RouteInfo, Usage
from ._affinity import affinity_keys, has_marks
from ._costs import Costs
from ._estimate import BINARY_TOKENS, estimate_input_tokens, max_tokens_of
from ._observe import AttemptContext, AttemptRecord, Observer
from ._outcome import rate_limit_answer
from ._state import InProcessState, RouteState

__all__ = ["BINARY_TOKENS", "MAX_PINS", "Signals", "estimate_input_tokens"]

#: Conversations whose fallback pin is remembered.
MAX_PINS = 10_000
# The operations the signals watch: model calls (token counts, batches, files and skills have
# limits of their own and no model usage to budget).
_MESSAGES = frozenset({CREATE, STREAM})

# (provider, model, input estimate taken of its budget, params): also what its attempt holds
_Taken = tuple[str, str, "int | None", dict[str, Any]]


class Signals(Costs, Observer):
    """Capacity, budgets, cache affinity and cost for a router.

    Args:
        state: where the per-(provider, model) signals live (default: in this process).
        cache_affinity: prefer the provider that cached a request's prefix.
        price_multipliers: provider name → factor on the catalog's prices (default: the
            provider's ``price_multiplier``, 1.0 unless a platform declares otherwise).
        fallback_models: requested model → the models to try next (``_fallback.py``).
        on_refusal: ``"return"`` (a refusal is an answer) or ``"fallback"`` (next model).

    .. versionadded:: 0.2
    """

    def __init__(
        self,
        state: RouteState | None = None,
        *,
        cache_affinity: bool = True,
        price_multipliers: Mapping[str, float] | None = None,
        fallback_models: Mapping[str, Sequence[str]] | None = None,
        on_refusal: str = "return",
    ) -> None:
        self.state: RouteState = state if state is not None else InProcessState()
        self.cache_affinity = cache_affinity
        self.price_multipliers = dict(price_multipliers or {})
        self.fallback_models = {k: tuple(v) for k, v in (fallback_models or {}).items()}
        self.on_refusal = on_refusal
        #: (conversation key, chain) -> the fallback hop a refusal moved it to (LRU, bounded).
        self.pins: OrderedDict[Any, int] = OrderedDict()
        #: Calls sent first to their prefix's provider, and calls keyed at all (a metric).
        self.affinity_hits = 0
        self.affinity_keyed = 0
        self._taken: dict[int, _Taken] = {}  # id(call) -> what admit took for its first choice

    def serve(self, providers: Sequence[Provider]) -> None:
        """A router of ``providers`` takes these signals: with a choice of providers, it reads
        the cache affinity (``InProcessState.affinity_wanted``)."""
        if len(providers) > 1 and self.cache_affinity and type(self.state) is InProcessState:
            self.state.affinity_wanted = True

    def pin(self, key: Any, hop: int) -> None:
        """Keep a conversation on fallback ``hop`` (at most ``MAX_PINS`` conversations)."""
        self.pins[key] = hop
        self.pins.move_to_end(key)
        while len(self.pins) > MAX_PINS:
            self.pins.popitem(last=False)

    # --- before the first attempt ---------------------------------------------------------------

    async def admit(
        self, plan: list[Provider], call: Call, deadline: float | None, skipped: list[str]
    ) -> list[Provider]:
        """``plan`` without the providers that cannot take ``call`` now, affinity first."""
        kept, waits, need_in = self.admit_now(plan, call, skipped)
        if kept:
            return kept
        return await self.wait(waits, call, deadline, need_in)

    def admit_now(
        self, plan: list[Provider], call: Call, skipped: list[str]
    ) -> tuple[list[Provider], list[tuple[float, Provider, str]], int]:
        """``admit`` up to its wait, without a coroutine (the router calls it on every call):
        ``(kept, waits, input estimate)``; when ``kept`` is empty, ``wait`` on ``waits``."""
        if call.operation not in _MESSAGES:
            return plan, [], 0
        params = call.params
        model = str(params.get("model", ""))
        if self.cache_affinity and len(plan) > 1:  # (one provider: no call to find nothing)
            plan = self._affine(plan, params)
        kept: list[Provider] = []
        waits: list[tuple[float, Provider, str]] = []
        state = self.state
        # The estimate (the request encoded) is made only if something reads it: always for
        # another store; in this process's own, a provider with limits seen or a budget.
        own = state if type(state) is InProcessState else None
        need_in = need_out = -1
        for p in plan:
            if need_in < 0:
                key = (p.name, model)
                if own is not None and key not in own.limits and p.name not in own.budgets:
                    # nothing would read the estimate: neither limits nor a budget to take from
                    if not kept:  # (``_take``, inlined: this runs on every call)
                        own.capacity_start(p.name, model)
                        self._taken[id(call)] = (p.name, model, None, params)
                    kept.append(p)
                    continue
                need_in, need_out = estimate_input_tokens(params), max_tokens_of(params)
            hit = state.capacity_block(p.name, model, need_in, need_out)
            if hit is None and not kept:  # the first choice: take its budget now, atomically
                hit = state.budget_admit(p.name, need_in)
                if hit is None:
                    self._take(call, p.name, model, need_in)
            if hit is None:
                kept.append(p)
            else:
                waits.append((hit[0], p, hit[1]))
                skipped.append(f"{p.name} ({p.platform}): {hit[1]}")
        return kept, waits, need_in  # (when waits were seen, estimated)

    def _affine(self, plan: list[Provider], params: Mapping[str, Any]) -> list[Provider]:
        """``plan`` with the provider that cached this prompt's prefix first (the caller checks
        that affinity is on and that there is a choice)."""
        if not ("cache_control" in params or has_marks(params)):
            return plan
        keys = affinity_keys(params)
        if keys is None:
            return plan
        self.affinity_keyed += 1
        name = self.state.affinity_get(keys.read)
        if name is None or plan[0].name == name:
            self.affinity_hits += name is not None
            return plan
        for i, p in enumerate(plan):
            if p.name == name:
                self.affinity_hits += 1
                return [p, *plan[:i], *plan[i + 1 :]]
        return plan

    async def wait(
        self,
        waits: list[tuple[float, Provider, str]],
        call: Call,
        deadline: float | None,
        need_in: int,
    ) -> list[Provider]:
        """Every candidate was refused (``waits``: when each frees up, and why): wait for the
        first to free up when the deadline allows, take its budget, and return it alone."""
        wait, first, _ = min(waits, key=lambda w: w[0])
        loop = asyncio.get_running_loop()
        if deadline is not None and loop.time() + wait >= deadline:
            reasons = "; ".join(f"{p.name}: {why}" for _, p, why in waits)
            raise E.AllPlatformsFailed(
                f"every provider is out of capacity ({reasons}); the first frees up in "
                f"{wait:.1f}s, after the deadline",
                attempts=[],
                errors=[],
            )
        if wait > 0 and not testing_no_backoff():
            await asyncio.sleep(wait)
        hit = self.state.budget_admit(first.name, need_in)
        # Still refused: a shared budget reserving its lease (one sync away), or the budget
        # spent again meanwhile. Wait again rather than send past the limit (no_backoff, a
        # test mode that skips the sleeps, only goes round for a lease being reserved).
        while hit is not None and ("reserving" in hit[1] or not testing_no_backoff()):
            if deadline is not None and loop.time() + hit[0] >= deadline:
                raise E.AllPlatformsFailed(
                    f"every provider is out of capacity ({first.name}: {hit[1]}); the first "
                    f"frees up in {hit[0]:.1f}s, after the deadline",
                    attempts=[],
                    errors=[],
                )
            await asyncio.sleep(hit[0])
            hit = self.state.budget_admit(first.name, need_in)
        model = str(call.params.get("model", ""))
        self._take(call, first.name, model, need_in if hit is None else None)
        return [first]

    def _take(self, call: Call, name: str, model: str, need_in: int | None) -> None:
        self.state.capacity_start(name, model)
        self._taken[id(call)] = (name, model, need_in, call.params)

    def _drop(self, taken: _Taken) -> None:
        name, model, need_in, _ = taken
        self.state.capacity_end(name, model)
        if need_in is not None:
            self.state.budget_release(name, need_in)

    # --- after each attempt (Observer) ----------------------------------------------------------

    def attempt_start(self, ctx: AttemptContext) -> Any:
        """What this attempt holds: its request in flight and, when the budget had room, its
        input estimate; ``None`` for an operation other than a model call."""
        taken = self._taken.pop(id(ctx.call), None)
        if taken is not None and taken[0] == ctx.provider.name:
            return taken
        return self.start_other(ctx, taken)

    def start_other(self, ctx: AttemptContext, taken: _Taken | None) -> Any:
        """``attempt_start`` of an attempt whose provider is not the one ``admit`` took for
        (``taken``, already removed from ``_taken``): give that back, take for this one."""
        name = ctx.provider.name
        params = ctx.call.params
        if taken is not None:  # the first choice was not tried: give back what it took
            self._drop(taken)
        if ctx.call.operation not in _MESSAGES:
            return None
        model = str(params.get("model", ""))
        need = estimate_input_tokens(params)
        got = self.state.budget_admit(name, need) is None
        self.state.capacity_start(name, model)
        return (name, model, need if got else None, params)

    def attempt_returned(self, state: Any, ctx: AttemptContext) -> None:
        """The answer's headers arrived: keep what they say about capacity."""
        headers, p = ctx.headers, ctx.provider
        if headers is None or ctx.call.operation not in _MESSAGES:
            return
        if type(p).rate_limits is Provider.rate_limits and type(headers) is dict and \
                RATE_LIMIT_HEADERS.isdisjoint(headers):  # (``says_nothing``, inlined)
            return  # the default parser would find nothing (a platform that sends no limits)
        try:
            limits = p.rate_limits(HttpResponse(ctx.status or 0, headers))
        except Exception:  # noqa: BLE001 - a third-party hook must not break the call
            return
        if (
            limits is not None
            and limits.retry_after_s is not None
            and not rate_limit_answer(ctx.status)
        ):
            # Only a rate-limit refusal's retry-after is a reset (``_outcome``); otherwise the
            # breaker decides, with its capped cooldown.
            limits = msgspec.structs.replace(limits, retry_after_s=None)
        if limits is not None:
            self.state.observe_limits(p.name, str(ctx.call.params.get("model", "")), limits)

    def attempt_end(self, state: Any, record: AttemptRecord) -> None:
        """Settle the budget with the bill; remember who cached the prefix.

        .. versionchanged:: 0.3 Takes the ``AttemptRecord`` (``Observer.attempt_end``)."""
        self.settle(
            state,
            record.provider,
            record.usage if record.error is None else None,
            record.outcome == "success",
        )

    def settle(self, state: Any, name: str, usage: Any, success: bool) -> None:
        """``attempt_end`` without a record: the router's own call (``state``: what
        ``attempt_start`` returned; ``usage``: the answer's, ``None`` for a failed attempt)."""
        if isinstance(state, tuple):
            own = self.state
            own.capacity_end(name, state[1])
            if state[2] is not None and usage is not None:
                own.budget_settle(name, state[2], usage.total_input_tokens, usage.output_tokens)
            elif state[2] is not None:
                own.budget_release(name, state[2])
            if usage is not None and success and self.cache_affinity and (
                type(own) is not InProcessState or own.affinity_wanted
            ):  # (not for a route of one provider alone in this process: nothing would read it)
                params = state[3]
                if "cache_control" in params or has_marks(params):
                    keys = affinity_keys(params)
                    if keys is not None:
                        own.affinity_put(keys.write, name)

    def route_end(
        self,
        state: Any,
        route: Any,
        info: RouteInfo | None,
        error: BaseException | None,
        outcome: str,
    ) -> None:
        """Give back what admit took for a call that never started an attempt."""
        taken = self._taken.pop(id(route.call), None)
        if taken is not None:
            self._drop(taken)

    # --- the answer -----------------------------------------------------------------------------

    def answered(self, ctx: AttemptContext, result: Any) -> float | None:
        """What the router does for the signals when an attempt it ran without observers or
        hedging succeeded, in one call: ``attempt_returned``, then ``cost_of`` (returned), then
        ``settle`` and ``route_end`` (each shielded as the router shields them)."""
        call, p = ctx.call, ctx.provider
        if call.operation not in _MESSAGES:  # nothing held, no limits kept, no cost
            self._taken.pop(id(call), None)
            return self.cost_of(ctx, result)
        headers = ctx.headers
        if headers is not None and not (
            type(p).rate_limits is Provider.rate_limits and type(headers) is dict
            and RATE_LIMIT_HEADERS.isdisjoint(headers)
        ):
            try:
                self.attempt_returned(ctx.held, ctx)
            except Exception:  # noqa: BLE001, S110 - the signals never change the outcome
                pass
        usd = self.cost_of(ctx, result)
        usage = getattr(result, "usage", None)
        held = ctx.held
        if held is not None:
            try:
                self.settle(held, p.name, usage if type(usage) is Usage else None, True)
            except Exception:  # noqa: BLE001, S110 - the signals never change the outcome
                pass
        self._taken.pop(id(call), None)  # (``route_end``: what admit took and no attempt did)
        return usd
