"""A timer that cancels the current task, as ``asyncio.timeout`` does, for the engine's hot path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, TypeVar

__all__ = ["ReadDeadline", "Timer"]

T = TypeVar("T")


class Timer:
    """What ``asyncio.timeout`` does for ``Engine.send``, without its per-use state enum: on Python
    3.11 every read of an ``Enum`` member goes through ``EnumType.__getattr__``, about 0.9k
    instructions each, nine a call. Public asyncio API only: ``call_at`` cancels the current
    task when ``delay`` seconds have passed; ``stop`` disarms it and says whether the exception
    the block ended with is that cancellation (then raised as ``TimeoutError``, as
    ``asyncio.timeout`` does: not when another cancellation was requested meanwhile).

    ``stop`` drops the task: a frame that keeps the timer (one in the traceback of the exception
    the task ends with) must not keep the task, which holds that exception (a reference cycle,
    left to the cyclic garbage collector with all it reaches)."""

    __slots__ = ("cancelling", "fired", "handle", "task")

    def __init__(self, delay: float) -> None:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a timeout needs to run inside a task")
        self.task: asyncio.Task[Any] | None = task
        self.cancelling = task.cancelling()
        self.fired = False
        # (the task's loop, not get_running_loop(): on Python 3.11 each asks the kernel for
        # the process id, a system call per call that an instruction count does not show)
        loop = task.get_loop()
        self.handle = loop.call_at(loop.time() + delay, self._fire)

    def _fire(self) -> None:
        self.fired = True
        if self.task is not None:
            self.task.cancel()

    def stop(self, exc: BaseException | None) -> bool:
        self.handle.cancel()
        task, self.task = self.task, None
        return (
            self.fired
            and task is not None
            and task.uncancel() <= self.cancelling
            and type(exc) is asyncio.CancelledError
        )


class ReadDeadline:
    """``asyncio.timeout_at(when)`` around each of a stream's reads, with one timer for them all
    (a new ``asyncio.timeout_at`` per chunk costs a timeout object, a timer handle and its
    enum state per event). Only a read is cancelled: if ``when`` passes between reads, the next
    read is cancelled at its first suspension (one that does not suspend completes), as a new
    ``timeout_at`` with a past deadline would do. ``close`` disarms it and drops the task (as
    ``Timer.stop`` does)."""

    __slots__ = ("cancelling", "fired", "handle", "loop", "reading", "task", "when")

    def __init__(self, when: float) -> None:
        self.when = when
        self.handle: asyncio.Handle | None = None  # armed at the first read
        self.loop: asyncio.AbstractEventLoop | None = None  # the first read's (see Timer)
        self.task: asyncio.Task[Any] | None = None
        self.reading = self.fired = False
        self.cancelling = 0

    async def read(self, items: AsyncIterator[T]) -> T:
        """``await anext(items)`` within the deadline (``TimeoutError`` past it)."""
        loop = self.loop
        if loop is None:
            loop = self.loop = asyncio.get_running_loop()
        task = asyncio.current_task(loop)  # (given the loop: no system call per read)
        if task is None:
            raise RuntimeError("a timeout needs to run inside a task")
        self.task, self.cancelling, self.reading = task, task.cancelling(), True
        del task  # (this frame, kept by a traceback, must not keep the task: see Timer)
        if self.handle is None:
            self.handle = (
                loop.call_soon(self._fire)
                if self.when <= loop.time()
                else loop.call_at(self.when, self._fire)
            )
        try:
            item = await anext(items)
        except BaseException as exc:
            if self._done() and type(exc) is asyncio.CancelledError:
                raise TimeoutError from exc
            raise
        self._done()
        return item

    def _fire(self) -> None:
        self.handle = None  # it ran: the next read arms it again (the deadline has passed)
        if self.reading and self.task is not None:
            self.fired = True
            self.task.cancel()

    def _done(self) -> bool:
        """The read ended; whether the deadline cancelled it (as ``asyncio.timeout`` decides)."""
        self.reading = False
        if not self.fired:
            return False
        self.fired = False
        return self.task is not None and self.task.uncancel() <= self.cancelling

    def close(self) -> None:
        """Disarm the timer (the stream ended)."""
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
        self.task = None
