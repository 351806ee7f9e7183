"""Hedging: when the first attempt is slow to show content, start a second provider too.

Opt-in. After ``after`` seconds (fixed, or a live quantile of the primary's time to first
token such as ``"p95"``) with no result from the primary, the next untried provider starts in
parallel; the first to produce content wins and the other is cancelled, which closes its
connection. ``budget`` caps hedged calls as a fraction of all calls, so hedging cannot double
the load on a platform that is slow for everyone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .._errors import ConfigurationError

if TYPE_CHECKING:
    from .._provider import Provider
    from ._observe import AttemptContext
    from ._router import Router
    from ._stats import LatencyStats

__all__ = ["Hedging", "hedge_partner", "race"]


class Hedging:
    """Hedging settings.

    Args:
        after: seconds, or ``"pNN"`` for that quantile of the primary's live time to first
            token (no hedge until the primary has ``min_samples`` of data).
        budget: at most this fraction of calls are hedged.
        min_samples: decayed samples needed before a quantile delay is trusted.
    """

    def __init__(self, after: float | str = "p95", *, budget: float = 0.1,
                 min_samples: float = 5.0) -> None:
        self.quantile: float | None = None
        self.fixed: float | None = None
        if isinstance(after, str):
            digits = after[1:]
            if not (after.startswith("p") and digits.replace(".", "", 1).isdigit()
                    and len(digits) <= 8 and 0 < float(digits) < 100):
                # "p999" is not the 99.9th percentile: it is refused rather than read as 9.99
                raise ConfigurationError(f"route.hedge_after: expected seconds or a quantile "
                                         f"'pNN' with 0 < NN < 100 (e.g. 'p95', 'p99.9'), "
                                         f"got {after[:20]!r}")
            self.quantile = float(digits) / 100
        else:
            if isinstance(after, bool) or not isinstance(after, (int, float)) \
                    or not 0 <= after < float("inf"):
                raise ConfigurationError("route.hedge_after: expected a finite number of "
                                         f"seconds >= 0 or a quantile 'pNN', got {after!r:.40}")
            self.fixed = float(after)
        if not 0 <= budget <= 1 or not 0 <= min_samples < float("inf"):
            raise ConfigurationError("Hedging: budget must be within 0..1 and min_samples a "
                                     "finite number >= 0")
        self.budget = budget
        self.min_samples = min_samples
        self.calls = 0
        self.hedged = 0

    def allow(self) -> bool:
        """Count a call; whether the budget still allows hedging it."""
        self.calls += 1
        return self.hedged < self.budget * self.calls + 1

    def delay(self, stats: LatencyStats, provider: str, model: str) -> float | None:
        """How long to wait for the primary before hedging; ``None``: do not hedge."""
        if self.fixed is not None:
            return self.fixed
        h = stats.get(provider, model)
        if h is None or h.weight() < self.min_samples or self.quantile is None:
            return None
        return h.quantile(self.quantile)


def hedge_partner(h: Hedging, plan: list[Provider], idx: int, tries: list[int],
                  kind: str) -> int | None:
    """The plan index of the attempt that may hedge the first one (``idx``), if ``h`` allows
    hedging this call: the next provider not tried yet."""
    if kind != "initial" or not h.allow():
        return None
    for j in range(len(plan)):
        if j != idx and tries[j] == 0:
            return j
    return None


async def race(router: Router, fn: Callable[[AttemptContext], Awaitable[Any]],
               primary: AttemptContext, make_hedge: Callable[[int], AttemptContext],
               hedging: Hedging, stats: LatencyStats) -> list[tuple[AttemptContext, Any]]:
    """Run the primary; hedge it if slow. Returns ``(context, result or exception)`` for every
    attempt started, the loser's exception being ``CancelledError``.

    If the caller is cancelled (before the hedge fires, or during the race), every attempt is
    cancelled and awaited, a result that arrived anyway is closed, and each attempt's telemetry
    ends as cancelled before the cancellation goes on: nothing outlives the call.
    """
    model = str(primary.call.params.get("model", ""))
    delay = hedging.delay(stats, primary.provider.name, model)
    first = asyncio.ensure_future(router._attempt(primary, fn))
    tasks: dict[asyncio.Future[Any], AttemptContext] = {first: primary}
    try:
        if delay is None:
            return [(primary, await asyncio.shield(first))]
        done, _ = await asyncio.wait({first}, timeout=delay)
        if done:
            return [(primary, first.result())]
        hedging.hedged += 1
        second_ctx = make_hedge(primary.number + 1)
        second = asyncio.ensure_future(router._attempt(second_ctx, fn))
        tasks[second] = second_ctx
        return await _settle(tasks)
    except asyncio.CancelledError:
        await _abandon(router, tasks)
        raise


async def _settle(tasks: dict[asyncio.Future[Any], AttemptContext],
                  ) -> list[tuple[AttemptContext, Any]]:
    """Wait until one attempt succeeds (or all fail); cancel the rest."""
    pending = set(tasks)
    results: dict[asyncio.Future[Any], Any] = {}
    try:
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                results[t] = t.result()
            if any(not isinstance(r, BaseException) for r in results.values()):
                break
    except asyncio.CancelledError:
        raise  # the caller's: ``race`` abandons every attempt
    except BaseException:
        for t in pending:  # a foreign error out of an attempt: stop the other one too
            t.cancel()
        raise
    for t in pending:
        t.cancel()
    for t in pending:
        try:
            results[t] = await t
        except asyncio.CancelledError:  # a new one: the caught one's traceback holds this
            results[t] = asyncio.CancelledError()  # frame, and this frame the results (a cycle)
    # A loser that finished with a result after the winner must not leak its stream.
    winners = [t for t, r in results.items() if not isinstance(r, BaseException)]
    for extra in winners[1:]:
        _discard(results[extra])
        results[extra] = asyncio.CancelledError()
    return [(ctx, results[t]) for t, ctx in tasks.items()]


async def _abandon(router: Router, tasks: dict[asyncio.Future[Any], AttemptContext]) -> None:
    """The caller was cancelled: cancel every attempt, wait for each to unwind (which closes its
    connection), close any result that arrived anyway, end each attempt's telemetry."""
    for t in tasks:
        t.cancel()
    for t, ctx in tasks.items():
        try:
            result = await asyncio.shield(t) if not t.done() else t.result()
        except BaseException:  # noqa: BLE001 - cancelled or failed: nothing to close
            result = None
        else:
            if not isinstance(result, BaseException):
                _discard(result)
        cancelled = asyncio.CancelledError()
        router._end_attempt(ctx, router._record(ctx, cancelled), None, None, "cancelled")


def _discard(result: Any) -> None:
    close = getattr(getattr(result, "response", None), "close", None)
    if callable(close):
        close()
