"""After a failed attempt: what to do next, and the error a call that gives up raises.

This is the one place that decides. ``judge`` answers everything the router needs to know about
one failure (``Verdict``: retry, fail over or stop; whether that provider may be tried again;
whether it counts against its circuit breaker; the platform's own wait hint), and the router
just asks it. The provider's ``classify`` says what an error means on its platform (its base
policy is ``status_action``, the official SDK's status table extended with failover); three
rules of the route sit above it, because they are about *which* provider may serve, not about
the error's meaning:

* ``x-should-retry: false`` speaks about retrying the same platform, never about trying
  another: an answer that would fail over still fails over, but that provider is not retried.
* A provider that cannot get credentials (``CredentialsError``), or whose platform refused them
  (401, 403), is unavailable: the next provider (other platform, other credentials) is tried,
  the same one never again in this call.
* A 400, 413 or 422 from a platform stays fatal (the request itself is wrong everywhere); but a
  body *we* refused as over one provider's limit (``RequestTooLargeError`` with ``size`` set,
  nothing sent) fails over to a provider whose limit is larger. It says nothing about that
  platform's health, so it does not count against its circuit breaker.

Two more questions about answers are answered here too: whether a call's failure means the
model was unavailable everywhere (``availability_failure``: model fallback moves on), and
whether an answer's ``retry-after`` is a rate-limit reset (``rate_limit_answer``).

The errors a call gives up with keep their cause: ``AllPlatformsFailedError`` and
``DeadlineExceededError`` have ``__cause__`` set to the last real error, and a provider's own
error is raised unchanged (with its own cause).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, NamedTuple

from .. import _errors as E
from .._provider import Action, Provider
from .._retry import hint_seconds
from ..types._messages import AttemptInfo

if TYPE_CHECKING:
    from ._observe import AttemptContext
    from ._router import Router

__all__ = ["Verdict", "availability_failure", "deadline_error", "decide", "give_up", "judge",
           "next_index", "rate_limit_answer", "record_attempt", "status_action", "unhealthy"]

# Statuses that say "these credentials are refused here": another platform may take its own.
_UNAVAILABLE = (401, 403)


def status_action(status: int, should_retry: bool | None = None) -> Action:
    """The base policy for an HTTP error status (the official SDK's, extended with failover):
    ``x-should-retry`` first; 408 and 409 retry; 429 and 5xx fail over; the rest is fatal."""
    if should_retry is True:
        return Action.RETRY
    if should_retry is False:
        return Action.FATAL
    if status in (408, 409):
        return Action.RETRY
    if status == 429 or status >= 500:
        return Action.FAILOVER
    return Action.FATAL


def _failover_status(status: int) -> bool:
    return status_action(status) is not Action.FATAL


class Verdict(NamedTuple):
    """What the router does after one failed attempt."""

    #: retry the same provider, fail over to another, or stop.
    action: Action
    #: whether the same provider may be tried again in this call.
    again: bool
    #: whether the failure counts against the provider's circuit breaker.
    unhealthy: bool
    #: the platform's own wait before the same provider again (``retry-after``), made safe.
    hint_s: float | None
    #: a local error (the request is wrong here, nothing was sent): raised at once.
    local: bool


def decide(provider: Provider, exc: BaseException) -> tuple[Action, bool]:
    """The action after ``exc`` on ``provider``, and whether that provider may be tried again."""
    if isinstance(exc, E.CredentialsError) or _refused_locally(exc):
        return Action.FAILOVER, False
    if isinstance(exc, E.APIStatusError):
        if exc.status in _UNAVAILABLE:
            return Action.FAILOVER, False
        if exc.should_retry is False:
            return (Action.FAILOVER if _failover_status(exc.status) else Action.FATAL), False
    return provider.classify(exc), True


def judge(provider: Provider, exc: BaseException) -> Verdict:
    """Everything the router needs to know about ``exc`` from ``provider``, decided once."""
    action, again = decide(provider, exc)
    refused = _refused_locally(exc)
    return Verdict(action, again, not refused and action is not Action.FATAL,
                   hint_seconds(getattr(exc, "retry_after", None)),
                   isinstance(exc, E.RequestError))


def _refused_locally(exc: BaseException) -> bool:
    return isinstance(exc, E.RequestTooLargeError) and exc.size is not None


def unhealthy(provider: Provider, exc: BaseException) -> bool:
    """Whether ``exc`` counts against ``provider``'s circuit breaker."""
    return judge(provider, exc).unhealthy


def _available(exc: BaseException) -> bool:
    if isinstance(exc, E.APIStatusError):
        return exc.status in (408, 429) or exc.status >= 500
    if isinstance(exc, (E.DeadlineExceeded, E.CredentialsError)):
        return False  # no time left for another model; a credential fails every model
    return isinstance(exc, (E.TransportError, E.MalformedResponse))


def availability_failure(exc: BaseException) -> bool:
    """Whether a call's ``exc`` says the model was unavailable everywhere, nothing about the
    request (overloaded, rate limited, 5xx, timeout; never a 400): model fallback moves on."""
    if isinstance(exc, E.AllPlatformsFailed):
        return all(_available(e) for e in exc.errors)  # none: every provider out of capacity
    return _available(exc)


def rate_limit_answer(status: int | None) -> bool:
    """Whether an answer with ``status`` is a rate-limit refusal, whose ``retry-after`` is the
    platform's reset. After a 529 or a 5xx the circuit breaker decides instead, with its
    cooldown capped, so an absurd hint on an overload cannot hold a provider out."""
    return status == 429


def next_index(plan: list[Provider], idx: int, tries: list[int], action: Action) -> int | None:
    """The plan index of the next attempt, or ``None`` to give up.

    ``RETRY``: the same provider while it has retries left. ``FAILOVER``: a provider not yet
    tried, at once; when all have been tried, the next one with retries left.
    """
    n = len(plan)
    if action is Action.FATAL:
        return None
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


def give_up(exc: BaseException, action: Action, plan: list[Provider],
            attempts: list[AttemptInfo], errors: list[BaseException],
            skipped: list[str]) -> BaseException:
    """The error a call raises when no attempt is left.

    Alone, a provider's last error is raised as the SDK would raise it; a fatal error (the
    request is wrong) is raised as itself too; across several providers
    ``AllPlatformsFailedError`` lists every attempt, its cause the last error. A body every
    provider refused as too large is raised as the last ``RequestTooLargeError``.
    """
    if len(plan) == 1 or action is Action.FATAL or all(map(_refused_locally, errors)):
        exc.attempts = list(attempts)  # type: ignore[attr-defined]
        return exc
    msg = f"all {len(attempts)} attempts failed"
    if skipped:
        msg += f" (skipped: {'; '.join(skipped)})"
    err = E.AllPlatformsFailed(msg, attempts=attempts, errors=errors)
    err.__cause__ = exc
    return err


def deadline_error(attempts: list[AttemptInfo], errors: list[BaseException],
                   budget: float | None) -> E.DeadlineExceeded:
    """The call's deadline ran out; its cause is the last attempt's error, if any."""
    limit = "time limit" if budget is None else f"deadline of {budget:g}s"  # a timeout of 0
    lines = [f"{limit} exceeded after {len(attempts)} attempt(s)"]
    lines += [f"  attempt {a.number} on {a.provider}: {a.error}" for a in attempts]
    err = E.DeadlineExceeded("\n".join(lines), attempts=attempts)
    if errors:
        err.__cause__ = errors[-1]
    return err


def record_attempt(self: Router, ctx: AttemptContext, exc: BaseException | None,
                   unhealthy: bool = False, cost_usd: float | None = None) -> AttemptInfo:
    """The attempt's ``AttemptInfo``; its outcome fed to the latency statistics and the
    breaker (``unhealthy``: the failure counts against it, as ``judge`` decided;
    ``cost_usd``: a success's answer's cost)."""
    p = ctx.provider
    now = time.perf_counter()
    start = ctx.sent if ctx.sent is not None else now
    if exc is None:  # the happy path, without the error bookkeeping
        first = ctx.first_token  # (ctx.ttft_s without the property's call)
        ttft = None if first is None or ctx.sent is None else first - ctx.sent
        model = ctx.requested_model
        self.stats.record(p.name, model, ttft if ttft is not None else now - start)
        if self.breaker is not None:
            self.breaker.success(p.name, model)
        info = AttemptInfo(number=ctx.number, provider=p.name, platform=p.platform,
                           model=ctx.model_id, kind=ctx.kind, reason=ctx.reason,
                           duration_s=now - start, backoff_s=ctx.backoff, status=ctx.status,
                           ttft_s=ttft, cost_usd=cost_usd)
    else:
        cancelled = isinstance(exc, asyncio.CancelledError)
        if isinstance(exc, E.ClauderouteError):
            exc.attempt = ctx.number
            if exc.platform is None:
                exc.platform = p.name
        if unhealthy and self.breaker is not None:
            self.breaker.failure(p.name, str(ctx.call.params.get("model", "")),
                                 getattr(exc, "retry_after", None))
        info = AttemptInfo(
            number=ctx.number, provider=p.name, platform=p.platform, model=ctx.model_id,
            kind=ctx.kind, reason=ctx.reason, duration_s=now - start, backoff_s=ctx.backoff,
            error="Cancelled" if cancelled else type(exc).__name__,
            error_type=getattr(exc, "error_type", None),
            status=getattr(exc, "status", None) or ctx.status, ttft_s=ctx.ttft_s,
        )
    return info
