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
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from .. import _errors as E
from .._engine import Engine
from .._provider import Action, Call, HttpRequest, Provider
from .._retry import RetryPolicy, testing_no_backoff
from ..types._messages import AttemptInfo, RouteInfo
from ._policy import Failover, Policy

__all__ = ["AttemptContext", "Router", "error_category"]

T = TypeVar("T")

AttemptFn = Callable[["AttemptContext"], Awaitable[T]]
Hook = Callable[[AttemptInfo], Any]


def error_category(exc: BaseException) -> str:
    """The cross-platform class of an error (``clauderoute.error.category`` in traces)."""
    if isinstance(exc, E.OverloadedError):
        return "overloaded"
    if isinstance(exc, E.RateLimitError):
        return "rate_limited"
    if isinstance(exc, (E.ReadTimeout, E.ConnectTimeout, E.DeadlineExceeded)):
        return "timeout"
    if isinstance(exc, E.ConnectError):
        return "connect"
    if isinstance(exc, E.StreamInterrupted):
        return "stream_interrupted"
    if isinstance(exc, E.MalformedResponse):
        return "malformed_response"
    if isinstance(exc, (E.AuthenticationError, E.PermissionDeniedError)):
        return "auth"
    if isinstance(exc, E.NotFoundError):
        return "not_found"
    if isinstance(exc, E.APIStatusError):
        return "server" if exc.status >= 500 else "invalid_request"
    return "other"


class AttemptContext:
    """What one attempt knows: its provider, number, and time budget."""

    __slots__ = ("call", "deadline", "number", "provider", "router", "timeout")

    def __init__(self, router: Router, provider: Provider, call: Call, number: int,
                 timeout: float | None, deadline: float | None) -> None:
        self.router = router
        self.provider = provider
        self.call = call
        self.number = number
        self.timeout = timeout
        self.deadline = deadline

    async def prepare(self) -> HttpRequest:
        """Prepare (refresh auth, shape, sign) and enforce the body size limit."""
        p = self.provider
        request = await p.prepare(self.call)
        limit = p.capabilities.body_limit(self.call.operation)
        if len(request.body) > limit:
            raise E.RequestTooLarge(len(request.body), limit, what=self.call.operation)
        return request


class Router:
    """Runs calls across providers with retries, failover and one deadline.

    Args:
        providers: candidates, in configured order.
        engine: the I/O engine (shared by every provider).
        policy: orders candidates for each call (default ``Failover``: configured order).
        retry: backoff timing.
        timeout_s: per-attempt timeout when a provider sets none.
        deadline_s: default budget for a whole call (``None``: no deadline).
        first_token_timeout_s: a stream that shows no content by then fails over.
        hooks: callables given each attempt's frozen ``AttemptInfo``.
    """

    def __init__(self, providers: Sequence[Provider], *, engine: Engine,
                 policy: Policy | None = None, retry: RetryPolicy | None = None,
                 timeout_s: float | None = 600.0, deadline_s: float | None = None,
                 first_token_timeout_s: float | None = None,
                 hooks: Sequence[Hook] = ()) -> None:
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
        self.hooks = list(hooks)

    # --- planning ------------------------------------------------------------------------------

    def plan(self, call: Call, only: Sequence[str] | None = None) -> list[Provider]:
        """Providers that can serve ``call``, in the policy's order.

        Raises:
            UnknownPlatformError: ``only`` names a provider that is not configured.
            CapabilityError: none can serve it (the message says what is missing where).
        """
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
            reason = p.capabilities.missing(call)
            if reason is None:
                able.append(p)
            else:
                why.append(f"{p.name} ({p.platform}): {reason}")
        if not able:
            raise E.CapabilityError("no provider can serve this request: " + "; ".join(why))
        return able if only is not None else self.policy.order(able, call)

    # --- the attempt loop -----------------------------------------------------------------------

    async def run(self, call: Call, fn: AttemptFn[T], *, timeout: float | None = None,
                  deadline_s: float | None = None,
                  only: Sequence[str] | None = None) -> tuple[T, RouteInfo]:
        """Run ``fn`` once per attempt until one succeeds; return its result and the route."""
        loop = asyncio.get_running_loop()
        plan = self.plan(call, only)
        budget = deadline_s if deadline_s is not None else self.deadline_s
        deadline = loop.time() + budget if budget is not None else None
        tries = [0] * len(plan)
        attempts: list[AttemptInfo] = []
        errors: list[BaseException] = []
        idx, kind, reason, backoff = 0, "initial", None, 0.0
        while True:
            p = plan[idx]
            limit = self._attempt_timeout(p, timeout, deadline, loop.time())
            if limit is not None and limit <= 0:
                raise self._deadline(attempts, errors, budget)
            ctx = AttemptContext(self, p, call, len(attempts) + 1, limit, deadline)
            t0 = loop.time()
            try:
                result = await fn(ctx)
            except E.ClauderouteError as exc:
                info = self._record(ctx, kind, reason, backoff, loop.time() - t0, exc)
                attempts.append(info)
                errors.append(exc)
                if isinstance(exc, E.RequestError):
                    raise
                tries[idx] += 1
                action = p.classify(exc)
                nxt = None if action is Action.FATAL else self._next(plan, idx, tries, action)
                if nxt is None:
                    raise self._give_up(exc, plan, attempts, errors) from None
                wait = 0.0
                if tries[nxt]:
                    wait = self.retry.backoff(tries[nxt] - 1, getattr(exc, "retry_after", None))
                if deadline is not None and loop.time() + wait >= deadline:
                    raise self._deadline(attempts, errors, budget) from None
                if wait and not testing_no_backoff():
                    await asyncio.sleep(wait)
                kind = "retry" if nxt == idx else "failover"
                reason, backoff, idx = error_category(exc), wait, nxt
            else:
                attempts.append(self._record(ctx, kind, reason, backoff, loop.time() - t0, None))
                return result, RouteInfo(provider=p.name, platform=p.platform,
                                         attempts=tuple(attempts))

    def _attempt_timeout(self, p: Provider, timeout: float | None, deadline: float | None,
                         now: float) -> float | None:
        limits = [t for t in (timeout, p.timeout_s, self.timeout_s) if t is not None]
        own = min(limits) if limits else None
        if deadline is None:
            return own
        left = deadline - now
        return left if own is None else min(own, left)

    @staticmethod
    def _next(plan: list[Provider], idx: int, tries: list[int], action: Action) -> int | None:
        n = len(plan)
        if action is Action.RETRY and tries[idx] <= plan[idx].max_retries:
            return idx
        order = [(idx + k) % n for k in range(1, n + 1)]  # the others first, then this one
        for j in order:
            if tries[j] == 0:
                return j
        for j in order:
            if tries[j] <= plan[j].max_retries:
                return j
        return None

    def _record(self, ctx: AttemptContext, kind: str, reason: str | None, backoff: float,
                duration: float, exc: BaseException | None) -> AttemptInfo:
        p = ctx.provider
        if exc is not None and isinstance(exc, E.ClauderouteError):
            exc.attempt = ctx.number
            if exc.platform is None:
                exc.platform = p.name
        info = AttemptInfo(
            number=ctx.number, provider=p.name, platform=p.platform,
            model=p.model_id(str(ctx.call.params.get("model", ""))), kind=kind, reason=reason,
            duration_s=duration, backoff_s=backoff,
            error=None if exc is None else type(exc).__name__,
            error_type=getattr(exc, "error_type", None),
            status=getattr(exc, "status", None),
        )
        for hook in self.hooks:
            try:
                hook(info)
            except Exception:  # noqa: BLE001, S110 - telemetry never changes behaviour
                pass
        return info

    @staticmethod
    def _give_up(exc: BaseException, plan: list[Provider], attempts: list[AttemptInfo],
                 errors: list[BaseException]) -> BaseException:
        # Alone, a provider's last error is raised as the SDK would raise it; across several,
        # AllPlatformsFailed lists every attempt.
        if len(plan) == 1 or isinstance(exc, E.APIStatusError) and exc.status < 500 and \
                exc.status not in (408, 409, 429):
            exc.attempts = list(attempts)  # type: ignore[attr-defined]
            return exc
        return E.AllPlatformsFailed(f"all {len(attempts)} attempts failed", attempts=attempts,
                                    errors=errors)

    @staticmethod
    def _deadline(attempts: list[AttemptInfo], errors: list[BaseException],
                  budget: float | None) -> E.DeadlineExceeded:
        lines = [f"deadline of {budget:g}s exceeded after {len(attempts)} attempt(s)"]
        lines += [f"  attempt {a.number} on {a.provider}: {a.error}" for a in attempts]
        err = E.DeadlineExceeded("\n".join(lines), attempts=attempts)
        if errors:
            err.__cause__ = errors[-1]
        return err
