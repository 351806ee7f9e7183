"""A timer that cancels the current task, as ``asyncio.timeout`` does, for the engine's hot path."""

from __future__ import annotations

import asyncio

__all__ = ["Timer"]


class Timer:
    """What ``asyncio.timeout`` does for ``Engine.send``, without its per-use state enum: on Python
    3.11 every read of an ``Enum`` member goes through ``EnumType.__getattr__``, about 0.9k
    instructions each, nine a call. Public asyncio API only: ``call_at`` cancels the current
    task when ``delay`` seconds have passed; ``stop`` disarms it and says whether the exception
    the block ended with is that cancellation (then raised as ``TimeoutError``, as
    ``asyncio.timeout`` does: not when another cancellation was requested meanwhile)."""

    __slots__ = ("cancelling", "fired", "handle", "task")

    def __init__(self, delay: float) -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a timeout needs to run inside a task")
        self.task = task
        self.cancelling = task.cancelling()
        self.fired = False
        self.handle = loop.call_at(loop.time() + delay, self._fire)

    def _fire(self) -> None:
        self.fired = True
        self.task.cancel()

    def stop(self, exc: BaseException | None) -> bool:
        self.handle.cancel()
        return (
            self.fired
            and self.task.uncancel() <= self.cancelling
            and type(exc) is asyncio.CancelledError
        )
