"""A stream's reads share one deadline timer (``ReadDeadline``) and end as ``asyncio.timeout_at``
around each read would: past the deadline a read that suspends times out, one that does not
completes, and an outside cancellation stays a cancellation. No wall-clock timing: the deadlines
are either already past or far away, and events order the steps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from clauderoute._timer import ReadDeadline


async def _items(ready: int, gate: asyncio.Event) -> AsyncIterator[int]:
    """``ready`` items at once, then one more after ``gate`` (a read that suspends)."""
    for i in range(ready):
        yield i
    await gate.wait()
    yield ready


async def _with_timeout_at(when: float, items: AsyncIterator[int]) -> int:
    async with asyncio.timeout_at(when):
        return await anext(items)


@pytest.mark.parametrize("how", ["ReadDeadline", "timeout_at"])
async def test_past_deadline_times_out_only_a_read_that_suspends(how: str) -> None:
    loop = asyncio.get_running_loop()
    past = loop.time() - 1.0
    items = _items(2, asyncio.Event())
    deadline = ReadDeadline(past)
    read = deadline.read if how == "ReadDeadline" else (lambda it: _with_timeout_at(past, it))
    try:
        assert await read(items) == 0  # ready: no suspension, no timeout
        assert await read(items) == 1
        async with asyncio.timeout(20):  # the guard: a read the deadline missed fails, not hangs
            with pytest.raises(TimeoutError):
                await read(items)  # waits on the gate: the deadline cancels it
    finally:
        deadline.close()
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_deadline_passing_between_reads_spares_the_caller() -> None:
    """The deadline passes while the caller works between reads: the caller's own awaits are not
    cancelled; the next read that suspends is."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Event()
    items = _items(1, gate)
    deadline = ReadDeadline(loop.time() + 0.05)
    try:
        assert await deadline.read(items) == 0
        fired = loop.create_future()
        loop.call_at(deadline.when + 0.01, fired.set_result, None)
        await fired  # the caller's own await spans the deadline: it completes
        async with asyncio.timeout(20):  # the guard, as above
            with pytest.raises(TimeoutError):
                await deadline.read(items)
    finally:
        deadline.close()


async def test_outside_cancellation_stays_a_cancellation() -> None:
    loop = asyncio.get_running_loop()
    started = asyncio.Event()

    async def slow() -> AsyncIterator[int]:
        started.set()
        await asyncio.Event().wait()
        yield 0

    deadline = ReadDeadline(loop.time() + 3600)
    task = asyncio.ensure_future(deadline.read(slow()))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    deadline.close()
    assert deadline.handle is None
