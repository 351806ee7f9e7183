"""One credential refresh in flight per auth object, shared by every call that needs it.

A refresh (an STS call, a metadata round trip, an OAuth token fetch) is slow and often runs in a
worker thread, which cannot be cancelled. Guarding it with an ``asyncio.Lock`` alone goes wrong
when the caller holding the lock is cancelled (its deadline ran out, the user gave up): the lock
is released while the thread keeps going, and the next call starts a second refresh beside the
first. Here the refresh is a task of its own; callers wait on it through ``asyncio.shield``, so
a cancelled caller stops waiting and the refresh goes on for the others and the next call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ._errors import ClauderouteError, CredentialsError

__all__ = ["SharedRefresh"]

T = TypeVar("T")


class SharedRefresh:
    """Runs at most one credential refresh at a time and shares it with every waiter.

    An ``Auth.refresh`` checks whether its credential is still fresh and, if not, hands the work
    to ``run`` (a coroutine function) or ``run_in_thread`` (a blocking function). A call that
    arrives while a refresh is in flight joins it instead of starting another. A cancelled
    caller does not cancel the shared refresh, whose result then serves the next call. Whatever
    the refresh raises reaches every waiter as a ``CredentialsError`` (the platform is
    unavailable for now, and a router fails over): a ``CredentialsError`` as raised, one of
    clauderoute's own errors with its message kept, any other exception (botocore, google-auth,
    azure-identity, ``OSError``...) by its type name only, since foreign messages may quote
    configuration, with the original chained as ``__cause__``.

    Args:
        platform: the name the error messages start with (``"bedrock"``...).

    Attributes:
        runs: how many refreshes were started (for tests and metrics).

    Example::

        class MyAuth(Auth):
            def __init__(self) -> None:
                self._token: str | None = None
                self._refresh = SharedRefresh("myplatform")

            async def refresh(self) -> None:
                if self._token is None:
                    self._token = await self._refresh.run_in_thread(fetch_token_blocking)

    .. versionadded:: 0.2
    """

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.runs = 0
        self._task: asyncio.Task[Any] | None = None

    @property
    def in_flight(self) -> bool:
        """Whether a refresh is running now."""
        return self._task is not None and not self._task.done()

    async def run(self, refresh: Callable[[], Awaitable[T]]) -> T:
        """Await ``refresh()``, or the refresh already in flight, and return its result.

        Raises:
            CredentialsError: the refresh failed (the cause is chained).
        """
        loop = asyncio.get_running_loop()
        task = self._task
        # A task of another event loop (a second client on another thread) cannot be awaited
        # here: that loop's refresh stays its own and this one starts afresh.
        if task is None or task.done() or task.get_loop() is not loop:
            task = self._task = loop.create_task(self._guarded(refresh))
            task.add_done_callback(self._consume)
        try:
            result: T = await asyncio.shield(task)
        except BaseException:
            task = None  # (the error's traceback keeps this frame: it must not keep the task)
            raise
        return result

    async def run_in_thread(self, refresh: Callable[[], T]) -> T:
        """``run`` for a blocking function, which runs in a worker thread off the event loop."""
        return await self.run(lambda: asyncio.to_thread(refresh))

    async def _guarded(self, refresh: Callable[[], Awaitable[T]]) -> T:
        self.runs += 1
        try:
            return await refresh()
        except CredentialsError:
            raise
        except ClauderouteError as exc:  # our own words: no secret in them, keep them
            text = str(exc)
            if not text.startswith(self.platform):
                text = f"{self.platform}: {text}"
            raise CredentialsError(text) from exc
        except Exception as exc:  # a credential library's error: named, its text not repeated
            raise CredentialsError(
                f"{self.platform}: could not get credentials ({type(exc).__name__}); see the "
                "chained exception") from exc

    def __repr__(self) -> str:
        return f"<SharedRefresh platform={self.platform!r} in_flight={self.in_flight}>"

    def _consume(self, task: asyncio.Task[Any]) -> None:
        """Mark the outcome as seen: when every waiter was cancelled, nobody awaits the
        failure, and asyncio would log "exception was never retrieved" for an error already
        handled. A failed refresh is then dropped (the next call starts afresh, as it would):
        its error's traceback holds frames that hold this object, which would hold the task."""
        if not task.cancelled() and task.exception() is not None and self._task is task:
            self._task = None
