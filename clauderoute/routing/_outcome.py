"""After a failed attempt: what to do next, and the error a call that gives up raises.

The provider's ``classify`` says what an error means on its platform; three rules of the route
sit above it, because they are about *which* provider may serve, not about the error's meaning:

* ``x-should-retry: false`` speaks about retrying the same platform, never about trying
  another: an answer that would fail over still fails over, but that provider is not retried.
* A provider that cannot get credentials (``CredentialsError``), or whose platform refused them
  (401, 403), is unavailable: the next provider (other platform, other credentials) is tried,
  the same one never again in this call.
* A 400, 413 or 422 from a platform stays fatal (the request itself is wrong everywhere); but a
  body *we* refused as over one provider's limit (``RequestTooLargeError`` with ``size`` set,
  nothing sent) fails over to a provider whose limit is larger. It says nothing about that
  platform's health, so it does not count against its circuit breaker.

The errors a call gives up with keep their cause: ``AllPlatformsFailedError`` and
``DeadlineExceededError`` have ``__cause__`` set to the last real error, and a provider's own
error is raised unchanged (with its own cause).
"""

from __future__ import annotations

from .. import _errors as E
from .._provider import Action, Provider
from ..types._messages import AttemptInfo

__all__ = ["deadline_error", "decide", "give_up", "next_index", "unhealthy"]

# Statuses that say "these credentials are refused here": another platform may take its own.
_UNAVAILABLE = (401, 403)


def _failover_status(status: int) -> bool:
    return status in (408, 409, 429) or status >= 500


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


def _refused_locally(exc: BaseException) -> bool:
    return isinstance(exc, E.RequestTooLargeError) and exc.size is not None


def unhealthy(provider: Provider, exc: BaseException) -> bool:
    """Whether ``exc`` counts against ``provider``'s circuit breaker."""
    return not _refused_locally(exc) and decide(provider, exc)[0] is not Action.FATAL


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
