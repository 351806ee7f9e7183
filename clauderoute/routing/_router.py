"""The router: which provider serves each attempt, and what happens when one fails.

It never branches on a platform's name: it reads ``capabilities``, asks the provider to
``classify`` an error, and orders candidates through a policy. One call has one deadline; each
attempt's timeout is the smaller of its own and what is left of it.

Choosing the next attempt after a failure (``_next``):

* ``FATAL`` — raise at once (a 400-class error is never failed over).
* ``RETRY`` — the same provider again after backoff, while it has retries left.
* ``FAILOVER`` — a provider not yet tried in this call, at once; when every candidate has been
  tried, the next one with retries left, after backoff. Alone, a provider therefore gets exactly
  the official SDK's behaviour: ``1 + max_retries`` attempts with exponential backoff.

Providers whose circuit is open for the call's model are skipped (``_breaker.py``); optional
hedging starts a second provider when the first is slow to show content (``_hedge.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar, cast

from .. import _errors as E
from .._engine import Engine
from .._provider import Call, Provider
from .._retry import RetryPolicy, testing_no_backoff
from ..types._messages import AttemptInfo, RouteInfo
from ._breaker import CircuitBreaker
from ._category import error_category
from ._hedge import Hedging, hedge_partner, race
from ._observe import (
    AttemptContext,
    Finisher,
    HookObserver,
    Observer,
    RouteContext,
    end_attempt,
    end_route,
    end_signalled,
    start_route,
)
from ._outcome import deadline_error, give_up, judge, record_attempt
from ._planning import Planner
from ._policy import Failover, Policy
from ._signals import Signals
from ._state import RouteState, bind_state
from ._stats import LatencyStats

__all__ = ["AttemptContext", "Finisher", "Router", "error_category"]

T = TypeVar("T")
AttemptFn = Callable[[AttemptContext], Awaitable[T]]
Hook = Callable[[Any], Any]  # given each ended attempt's ``AttemptRecord``


class Router(Planner):
    """Runs calls across providers with retries, failover, breakers, hedging and one deadline.

    Args:
        providers: candidates, in configured order.
        engine: the I/O engine (shared by every provider).
        policy: orders candidates for each call (default ``Failover``: configured order).
        retry: backoff timing.
        timeout_s: per-attempt timeout when a provider sets none.
        deadline_s: default budget for a whole call (``None``: no deadline).
        first_token_timeout_s: a stream that shows no content by then fails over.
        breaker: circuit breakers (default: open after 5 failures in a row, 5 s cooldown);
            ``False`` disables them.
        hedging: opt-in hedging settings.
        hooks: callables given each ended attempt's frozen ``AttemptRecord`` (run as one
            ``HookObserver``, after the ``observers``).
        observers: telemetry observers (tracing, metrics, benchmark recorder).

    .. versionchanged:: 0.3 ``state``; hooks get an ``AttemptRecord`` (an ``AttemptInfo``
       with more fields) when the attempt ends (a stream's with the stream, no longer at its
       first content).
        signals: capacity, budgets, cache affinity and cost (``_signals.py``; default on,
            ``False`` disables them).
        state: the per-(provider, model) ``RouteState`` (default: the signals', else a new
            ``InProcessState``); ``breaker``, when given, becomes its breaker.
    """

    def __init__(self, providers: Sequence[Provider], *, engine: Engine,
                 policy: Policy | None = None, retry: RetryPolicy | None = None,
                 timeout_s: float | None = 600.0, deadline_s: float | None = None,
                 first_token_timeout_s: float | None = None,
                 breaker: CircuitBreaker | bool | None = None, hedging: Hedging | None = None,
                 hooks: Sequence[Hook] = (), observers: Sequence[Observer] = (),
                 signals: Signals | bool | None = None, state: RouteState | None = None) -> None:
        if not providers:
            raise E.ConfigurationError("a route needs at least one provider")
        names = [p.name for p in providers]
        if len(set(names)) != len(names):
            raise E.ConfigurationError(f"provider names must be unique, got {names}")
        self.providers = list(providers)
        self.by_name = {p.name: p for p in providers}
        self.engine = engine
        self.policy = policy or Failover()
        self.retry = retry or RetryPolicy()
        self.timeout_s = timeout_s
        self.deadline_s = deadline_s
        self.first_token_timeout_s = first_token_timeout_s
        self.signals = (signals if isinstance(signals, Signals)
                        else None if signals is False else Signals(state))
        #: The per-(provider, model) state: breakers, latency, rate limits, budgets, affinity.
        self.state = bind_state(state if state is not None or self.signals is None
                                else self.signals.state, breaker)
        self.breaker: CircuitBreaker | None = self.state.breaker
        if self.signals is not None:
            self.signals.serve(self.providers)
        self.stats: LatencyStats = self.state.latency
        if hasattr(self.policy, "stats"):
            cast(Any, self.policy).stats = self.stats  # the latency policy reads live stats
        self.hedging = hedging
        self.hooks = list(hooks)
        # hooks and observers are one mechanism
        self.observers = [*observers, HookObserver(hooks)] if hooks else list(observers)
        self._plans = {}

    # --- the attempt loop -----------------------------------------------------------------------

    def run(self, call: Call, fn: AttemptFn[T], *, timeout: float | None = None,
            deadline_s: float | None = None,
            only: Sequence[str] | None = None) -> Coroutine[Any, Any, tuple[T, RouteInfo]]:
        """Run ``fn`` once per attempt until one succeeds; return its result and the route.

        (A plain function returning the call's coroutine, to be awaited as before: a wrapping
        coroutine would be one more frame every resumption of the call passes through.)"""
        return self._run(call, fn, timeout, deadline_s, only, defer=False)

    async def run_stream(self, call: Call, fn: AttemptFn[T], *, timeout: float | None = None,
                         deadline_s: float | None = None, only: Sequence[str] | None = None,
                         ) -> tuple[T, RouteInfo, Finisher]:
        """Like ``run``, but the winning attempt's telemetry ends when the stream does: call
        the returned ``Finisher``."""
        out = await self._run(call, fn, timeout, deadline_s, only, defer=True)
        return cast("tuple[T, RouteInfo, Finisher]", out)

    async def _run(self, call: Call, fn: AttemptFn[T], timeout: float | None,
                   deadline_s: float | None, only: Sequence[str] | None,
                   defer: bool) -> Any:
        """``(result, route)``, or with ``defer`` ``(result, route, finisher)``."""
        skipped: list[str] = []
        claims: dict[str, int] | None = None  # half-open probes this call holds (released at
        # the end); made only when a circuit is not closed, the happy path allocates nothing
        plan = self.plan(call, only, skipped)
        budget = deadline_s if deadline_s is not None else self.deadline_s
        deadline: float | None = None
        if budget is not None:  # (the loop only for a deadline: asking costs a system call, the
            loop = asyncio.get_running_loop()  # process id, on Python 3.11; ``Timer``)
            deadline = loop.time() + budget
        observers, signals = self.observers, self.signals
        if signals is not None and type(signals).enabled is not Observer.enabled and _safe(
                signals.enabled) is False:
            signals = None
        watching: list[Observer] = []
        for o in observers:  # (a loop, not a comprehension: no function frame per call)
            try:
                on = o.enabled()
            except Exception:  # noqa: BLE001 - as _safe, without a call
                on = None
            if on is not False:
                watching.append(o)
        route = RouteContext(call, budget, watching, signals)
        # Signals of their own class, on a call answered whole (not a stream), hear of an
        # attempt this loop runs itself that succeeds in one call (``Signals.answered``).
        quick = signals is not None and not defer and type(signals) is Signals
        if route.observers:
            self._start_route(route)
        try:
            if self.breaker is not None and self.breaker.tripped:
                claims = {}
                plan = await self._healthy(plan, call, deadline, skipped, claims)
            if self.signals is not None:  # admit, awaiting only when it must wait
                kept, waits, need_in = self.signals.admit_now(plan, call, skipped)
                plan = kept or await self.signals.wait(waits, call, deadline, need_in)
            tries = [0] * len(plan)
            hints: list[float | None] | None = None  # each provider's own last retry-after
            attempts: list[AttemptInfo] = []
            errors: list[BaseException] = []
            idx, kind, reason, backoff = 0, "initial", None, 0.0
            cap, t = timeout, self.timeout_s  # (``_context``, inlined: the call's part once)
            if t is not None and (cap is None or t < cap):
                cap = t
            while True:
                wctx: AttemptContext | None = None  # the attempt that succeeded, and its result
                result: Any = None
                limit, t = cap, plan[idx].timeout_s
                if t is not None and (limit is None or t < limit):
                    limit = t
                if deadline is not None:
                    left = deadline - loop.time()
                    limit = left if limit is None else min(limit, left)
                ctx = AttemptContext(self, plan[idx], call, len(attempts) + 1, limit, deadline,
                                     route, kind, reason, backoff)
                if limit is not None and limit <= 0:
                    raise deadline_error(attempts, errors, budget)
                hedge = None if self.hedging is None else hedge_partner(self.hedging, plan, idx,
                                                                         tries, kind)
                if hedge is not None and claims is not None and not self.admit(
                        plan[hedge], str(call.params.get("model", "")), claims):
                    hedge = None  # its circuit's one probe belongs to another call
                if hedge is None and not route.observers:  # _attempt inlined: a coroutine less
                    if quick:  # (``attempt_start``, inlined for the usual first attempt)
                        sig: Signals = signals  # type: ignore[assignment]  # (no cast() call)
                        taken = sig._taken.pop(id(call), None)
                        ctx.held = taken if taken is not None and taken[0] == ctx.provider.name \
                            else _safe(sig.start_other, ctx, taken)
                    elif signals is not None:
                        try:
                            ctx.held = signals.attempt_start(ctx)
                        except Exception:  # noqa: BLE001, S110 - as _safe, without a call
                            pass
                    try:
                        out: T | BaseException = await fn(ctx)
                    except E.ClauderouteError as exc:
                        out = exc
                    except BaseException as exc:
                        if signals is not None:
                            _safe(signals.attempt_returned, ctx.held, ctx)
                            if isinstance(exc, asyncio.CancelledError):
                                self._end_attempt(ctx, self._record(ctx, exc), None, None,
                                                  "cancelled")
                        raise
                    if signals is not None and (not quick or isinstance(out, BaseException)):
                        try:  # (a quick success tells them in ``answered``, below)
                            signals.attempt_returned(ctx.held, ctx)
                        except Exception:  # noqa: BLE001, S110 - as _safe, without a call
                            pass
                    outcomes: Sequence[tuple[AttemptContext, T | BaseException]] = ()
                    if isinstance(out, BaseException):
                        outcomes = [(ctx, out)]
                    else:  # a success: no outcomes to sort through
                        wctx, result = ctx, out
                elif hedge is None:
                    try:
                        outcomes = [(ctx, await self._attempt(ctx, fn))]
                    except asyncio.CancelledError:  # the caller's task: end the attempt's span
                        self._end_attempt(ctx, self._record(ctx, asyncio.CancelledError()),
                                          None, None, "cancelled")
                        raise
                else:
                    partner: int = hedge  # (a lambda does not see the narrowing)
                    outcomes = await race(self, fn, ctx, lambda n: self._context(
                        plan[partner], call, n, timeout, deadline, route, "hedge", None, 0.0),
                        self.hedging, self.stats)  # type: ignore[arg-type]
                last_exc: BaseException | None = None
                last_ctx, verdict = ctx, None
                for actx, out in outcomes:
                    if isinstance(out, BaseException):
                        if isinstance(out, asyncio.CancelledError):
                            info = self._record(actx, out)
                            attempts.append(info)
                            self._end_attempt(actx, info, None, None, "cancelled")
                            continue
                        verdict = judge(actx.provider, out)  # the one decision about it
                        info = self._record(actx, out, verdict.unhealthy)
                        attempts.append(info)
                        errors.append(out)
                        self._end_attempt(actx, info, None, out, "error")
                        j = plan.index(actx.provider)
                        tries[j] += 1
                        if hints is None:
                            hints = [None for _ in plan]
                        hints[j] = verdict.hint_s
                        last_exc, last_ctx = out, actx
                        if verdict.local:
                            raise out
                    else:
                        wctx, result = actx, out
                if wctx is not None:
                    # the answer's cost, on the route and its winning attempt (a stream's
                    # once its message is whole: ``Signals.finish``)
                    direct = quick and hedge is None and not route.observers
                    if direct:  # attempt_returned, cost_of, settle and route_end in one
                        usd = signals.answered(wctx, result)  # type: ignore[union-attr]
                    else:
                        usd = None if self.signals is None else self.signals.cost_of(wctx, result)
                    info = self._record(wctx, None, False, usd)  # (positional: a faster call)
                    attempts.append(info)
                    route_info = RouteInfo(provider=wctx.provider.name,
                                           platform=wctx.provider.platform,
                                           attempts=tuple(attempts) if len(attempts) == 1
                                           else tuple(sorted(attempts, key=lambda a: a.number)),
                                           skipped=tuple(skipped) if skipped else (),
                                           cost_usd=usd)
                    if defer:
                        return result, route_info, Finisher(self, route, wctx, info, route_info)
                    if route.observers:
                        self._end_attempt(wctx, info, result, None, "success")
                        self._end_route(route, route_info, None, "success")
                    elif signals is not None and not direct:
                        end_signalled(wctx, info, result, route_info)
                    return result, route_info
                assert last_exc is not None and verdict is not None
                idx = plan.index(last_ctx.provider)
                action = verdict.action
                if not verdict.again:  # unavailable, or told not to retry: never this provider again
                    tries[idx] = plan[idx].max_retries + 1
                if claims is None:
                    claims = {}
                nxt = self._next_admitted(plan, idx, tries, action, call, claims, skipped)
                if nxt is None:
                    raise give_up(last_exc, action, plan, attempts, errors, skipped)
                wait = 0.0
                if tries[nxt]:  # only nxt's own hint counts; made safe and capped by the policy
                    wait = self.retry.backoff(tries[nxt] - 1, hints[nxt] if hints else None)
                if deadline is not None and loop.time() + wait >= deadline:
                    raise deadline_error(attempts, errors, budget)
                if wait and not testing_no_backoff():
                    await asyncio.sleep(wait)
                kind = "retry" if nxt == idx else "failover"
                reason, backoff, idx = error_category(last_exc), wait, nxt
        except asyncio.CancelledError:
            self._end_route(route, None, None, "cancelled")
            raise
        except BaseException as exc:
            outcome = "deadline_exceeded" if isinstance(exc, E.DeadlineExceeded) else "error"
            self._end_route(route, None, exc, outcome)
            raise
        finally:
            if claims:
                self.release(str(call.params.get("model", "")), claims)
            # Each attempt's error has a traceback through this frame: left in its locals once
            # the call is over, they would form a reference cycle, freed only by the cyclic
            # collector with every frame, buffer and timer those tracebacks reach.
            errors = outcomes = out = last_exc = None  # type: ignore[assignment]

    def _context(self, p: Provider, call: Call, number: int, timeout: float | None,
                 deadline: float | None, route: RouteContext, kind: str, reason: str | None,
                 backoff: float) -> AttemptContext:
        limit, t = timeout, p.timeout_s  # (two tests, unrolled: no tuple to loop over per attempt)
        if t is not None and (limit is None or t < limit):
            limit = t
        t = self.timeout_s
        if t is not None and (limit is None or t < limit):
            limit = t
        if deadline is not None:
            left = deadline - asyncio.get_running_loop().time()
            limit = left if limit is None else min(limit, left)
        return AttemptContext(self, p, call, number, limit, deadline, route, kind, reason,
                              backoff)

    async def _attempt(self, ctx: AttemptContext, fn: AttemptFn[T]) -> T | BaseException:
        """One attempt; its exception is returned rather than raised."""
        observers, signals = ctx.route.observers, ctx.route.signals
        if not observers and signals is None:
            try:
                return await fn(ctx)
            except E.ClauderouteError as exc:
                return exc
        for obs in observers:
            ctx.observed.append(_safe(obs.attempt_start, ctx))
        if signals is not None:
            ctx.held = _safe(signals.attempt_start, ctx)
        try:
            return await fn(ctx)
        except E.ClauderouteError as exc:
            return exc
        finally:
            for obs, state in zip(observers, ctx.observed, strict=False):
                _safe(obs.attempt_returned, state, ctx)
            if signals is not None:
                _safe(signals.attempt_returned, ctx.held, ctx)

    # --- bookkeeping ----------------------------------------------------------------------------

    _record = record_attempt  # (``_outcome.py``: a method of the router)

    # Telemetry (``_observe.py``): each observer called, one raising ignored.
    _start_route = staticmethod(start_route)
    _end_attempt = staticmethod(end_attempt)
    _end_route = staticmethod(end_route)


def _safe(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception:  # noqa: BLE001 - telemetry never changes behaviour
        return None
