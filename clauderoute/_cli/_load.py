"""The benchmark's load generator and per-request recorder.

Requests are pinned to one provider each (``provider=``) and interleaved request by request:
every round visits each provider once, in an order shuffled per round. Timing comes from the
router's ``Observer`` interface, from each ended attempt's frozen ``AttemptRecord`` (no private
state): all request times run from the moment the first
attempt's request was handed to the engine, so a retry or a failover is part of what the caller
waited for; ``attempts`` says how many it took. Times in records are seconds relative to the
run's start (``time.perf_counter``, monotonic).
"""

from __future__ import annotations

import asyncio
import contextvars
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import _errors as E
from .._client import AsyncClient
from ..routing import AttemptRecord, Observer
from ..routing._category import error_category

__all__ = ["LoadPoint", "Recorder", "Workload", "plan_order", "run_point"]

_CURRENT: contextvars.ContextVar[_Req | None] = contextvars.ContextVar("_bench_req", default=None)


@dataclass
class _Req:
    attempts: list[AttemptRecord] = field(default_factory=list)


class Recorder(Observer):
    """Collects each request's attempt records through the router's observer interface."""

    def attempt_end(self, state: Any, record: AttemptRecord) -> None:
        req = _CURRENT.get()
        if req is not None:
            req.attempts.append(record)


@dataclass(frozen=True)
class LoadPoint:
    """One load setting: ``sequential``, ``concurrency`` N (closed loop) or ``rate`` R (open)."""

    mode: str
    value: float = 1.0
    arrival: str = "poisson"
    max_inflight: int | None = None

    @property
    def label(self) -> str:
        """``sequential``, ``concurrency=4``, ``rate=10/s``."""
        if self.mode == "sequential":
            return "sequential"
        if self.mode == "concurrency":
            return f"concurrency={int(self.value)}"
        return f"rate={self.value:g}/s"


@dataclass(frozen=True)
class Workload:
    """What every request asks for."""

    model: str = "claude-haiku-4-5"
    max_tokens: int = 64
    stream: bool = True
    detailed: bool = False
    prompt_words: int = 120
    scenario: str = "stream"

    def messages(self, index: int) -> list[dict[str, Any]]:
        """A unique prompt per request, long enough that the answer runs to ``max_tokens``."""
        words = " ".join(f"w{(index * 7 + i) % 997}" for i in range(self.prompt_words))
        return [{"role": "user", "content": f"request {index}: repeat these words: {words}"}]


def plan_order(providers: list[str], rounds: int, rng: random.Random) -> list[str]:
    """Provider names in dispatch order: each round visits all, shuffled per round."""
    order: list[str] = []
    for _ in range(rounds):
        r = list(providers)
        rng.shuffle(r)
        order += r
    return order


def _error_type(exc: BaseException) -> str:
    code = getattr(exc, "error_type", None)
    if code:
        return str(code)
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        return str(status)
    if error_category(exc) == "timeout":
        return "timeout"
    return type(exc).__name__


async def _one(client: AsyncClient, work: Workload, provider: str, index: int,
               t0: float) -> dict[str, Any]:
    req = _Req()
    token = _CURRENT.set(req)
    rec: dict[str, Any] = {"status": "ok", "error.type": None, "error_category": None,
                           "error_phase": None, "http_status": None, "stop_reason": None}
    deltas: list[float] = []
    first_text: float | None = None
    msg: Any = None
    dispatched = time.perf_counter()
    params: dict[str, Any] = {"model": work.model, "max_tokens": work.max_tokens,
              "messages": work.messages(index), "temperature": 0}
    try:
        if work.stream:
            async with client.messages.stream(provider=provider, **params) as s:
                async for ev in s:
                    if ev.type == "content_block_delta":
                        now = time.perf_counter()
                        deltas.append(now)
                        delta = getattr(ev, "delta", None)
                        if first_text is None and getattr(delta, "type", "") == "text_delta":
                            first_text = now
                msg = await s.get_final_message()
        else:
            msg = await client.messages.create(provider=provider, **params)
        rec["http_status"] = 200
    except asyncio.CancelledError:
        rec["status"] = "cancelled"
        raise
    except E.ClauderouteError as exc:
        cause = exc.last if isinstance(exc, E.AllPlatformsFailed) and exc.last else exc
        rec["status"] = "timeout" if error_category(cause) == "timeout" else "error"
        rec["error.type"] = _error_type(cause)
        rec["error_category"] = error_category(cause)
        status = getattr(cause, "status", None)
        rec["http_status"] = status if isinstance(status, int) else None
        if isinstance(cause, E.StreamInterrupted):
            msg = cause.partial
    finally:
        end = time.perf_counter()
        _CURRENT.reset(token)
        _fill(rec, req.attempts, dispatched, end, deltas, first_text, msg, work, t0)
    return rec


def _at(record: AttemptRecord | None, offset: float | None) -> float | None:
    """``record``'s time ``offset`` (seconds after it was sent) as a ``perf_counter`` value."""
    if record is None or offset is None or record.sent_at is None:
        return None
    return record.sent_at + offset


def _fill(rec: dict[str, Any], attempts: list[AttemptRecord], dispatched: float, end: float,
          deltas: list[float], first_text: float | None, msg: Any, work: Workload,
          t0: float) -> None:
    send = next((a.sent_at for a in attempts if a.sent_at is not None), dispatched)
    last = attempts[-1] if attempts else None

    def since(t: float | None) -> float | None:
        return None if t is None else t - send

    first_token = _at(last, last.ttft_s) if last and last.ttft_s is not None else (
        deltas[0] if deltas else None)
    headers_at = _at(last, last.headers_s if last else None)
    rec.update(sent_at=send - t0, ttfb_s=since(headers_at),
               ttfc_s=since(_at(last, last.first_chunk_s if last else None)),
               ttft_s=since(first_token),
               ttft_text_s=since(first_text), e2e_s=end - send, attempts=len(attempts),
               final_platform=last.platform if last else None,
               final_deployment=last.provider if last else None)
    if rec["status"] != "ok" and last is not None:
        rec["error_phase"] = ("mid_stream" if deltas else "before_first_token"
                              if headers_at is not None else "before_headers")
    usage = getattr(msg, "usage", None)
    rec["cost_usd"] = getattr(getattr(msg, "route", None), "cost_usd", None)
    out_tokens = usage.output_tokens if usage is not None else None
    decode = deltas[-1] - first_token if deltas and first_token is not None else None
    rec.update(decode_s=decode,
               tpot_s=decode / (out_tokens - 1) if decode and out_tokens and out_tokens > 1
               else None,
               user_tps=(out_tokens - 1) / decode if decode and out_tokens and out_tokens > 1
               else None,
               e2e_tps=out_tokens / (end - send) if out_tokens is not None else None)
    if work.detailed:
        rec["icl_s"] = [b - a for a, b in zip(deltas, deltas[1:], strict=False)]
    if usage is not None:
        cr = usage.cache_read_input_tokens or 0
        cw = usage.cache_creation_input_tokens or 0
        rec.update(input_tokens_uncached=usage.input_tokens, cache_read=cr, cache_write=cw,
                   input_tokens=usage.input_tokens + cr + cw, output_tokens=out_tokens,
                   usage_source="server", stop_reason=getattr(msg, "stop_reason", None))
    else:
        rec.update(input_tokens_uncached=None, cache_read=None, cache_write=None,
                   input_tokens=None, output_tokens=None, usage_source=None)
    rec.update(first_byte_latency_s=None, invocation_latency_s=None)


def _releaser(cap: asyncio.Semaphore) -> Callable[[asyncio.Task[None]], None]:
    return lambda _task: cap.release()


async def run_point(client: AsyncClient, work: Workload, point: LoadPoint, order: list[str],
                    *, first_index: int, t0: float, seed: int, duration_s: float | None,
                    on_done: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Run ``order`` (provider per request) at ``point``; ``on_done`` gets each record.

    Returns run facts for the load point: window, target and achieved rate.
    """
    records: list[dict[str, Any]] = []
    inflight = 0
    peak = 0
    rng = random.Random(seed)
    start = time.perf_counter()
    stop_at = start + duration_s if duration_s else None

    async def launch(i: int, provider: str, scheduled: float) -> None:
        nonlocal inflight, peak
        inflight += 1
        peak = max(peak, inflight)
        actual = time.perf_counter()
        base = {"request_index": first_index + i, "deployment": provider,
                "scheduled_at": scheduled - t0, "dispatch_delay_s": actual - scheduled}
        rec: dict[str, Any] = {"status": "cancelled"}
        try:
            rec = await _one(client, work, provider, first_index + i, t0)
        finally:
            inflight -= 1
            rec.update(base)
            if rec.get("e2e_s") is not None:
                rec["scheduled_latency_s"] = rec["sent_at"] + rec["e2e_s"] - rec["scheduled_at"]
            records.append(rec)
            on_done(rec)

    if point.mode in ("sequential", "concurrency"):
        n = 1 if point.mode == "sequential" else max(1, int(point.value))
        queue = list(enumerate(order))
        queue.reverse()

        async def worker() -> None:
            while queue and (stop_at is None or time.perf_counter() < stop_at):
                i, provider = queue.pop()
                await launch(i, provider, time.perf_counter())

        await asyncio.gather(*(worker() for _ in range(n)))
    else:
        times, t = [], 0.0
        for _ in order:
            times.append(t)
            t += rng.expovariate(point.value) if point.arrival == "poisson" else 1 / point.value
        tasks: list[asyncio.Task[None]] = []
        cap = asyncio.Semaphore(point.max_inflight) if point.max_inflight else None
        for i, (provider, at) in enumerate(zip(order, times, strict=True)):
            scheduled = start + at
            if stop_at is not None and scheduled > stop_at:
                break
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if cap is not None:
                await cap.acquire()
            task = asyncio.create_task(launch(i, provider, scheduled))
            if cap is not None:
                task.add_done_callback(_releaser(cap))
            tasks.append(task)
        await asyncio.gather(*tasks, return_exceptions=True)
    window = time.perf_counter() - start
    target = point.value if point.mode == "rate" else None
    return {"load_point": point.label, "window_s": window, "peak_concurrency": peak,
            "target_rate": target, "planned_rate": _rate([r["scheduled_at"] for r in records]),
            "achieved_rate": _rate([r["scheduled_at"] + r["dispatch_delay_s"] for r in records]),
            "records": records}


def _rate(times: list[float]) -> float | None:
    """Dispatches per second over the span of ``times`` (``None`` below two)."""
    span = max(times) - min(times) if len(times) > 1 else 0.0
    return (len(times) - 1) / span if span > 0 else None
