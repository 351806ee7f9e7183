"""``Client``: the synchronous client, the async core run on one private event-loop thread.

There is no second implementation of anything: every call is the ``AsyncClient``'s coroutine,
handed to the client's own loop with ``asyncio.run_coroutine_threadsafe`` and waited for.
Any number of threads may call one client at once; the loop runs their calls concurrently, as
it would run tasks. If the waiting thread is interrupted (``KeyboardInterrupt``, or any exception
raised in it while it waits, such as a signal-driven timeout), the call's task is cancelled and
waited for before the exception goes on, so nothing keeps running behind the caller's back.
``close()`` (or leaving ``with Client() as client``) closes the connections and stops the
thread; a client dropped without ``close()`` stops its thread when it is garbage-collected.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ._client import NOT_GIVEN, AsyncClient, NotGiven
from ._engine import Engine

if TYPE_CHECKING:
    from ._provider import Provider
    from ._retry import RetryPolicy
    from ._sync_resources import SyncBeta, SyncMessages, SyncModels
    from .routing._breaker import CircuitBreaker
    from .routing._hedge import Hedging
    from .routing._observe import Observer
    from .routing._policy import Policy
    from .routing._router import Hook
    from .routing._signals import Signals

__all__ = ["Client", "Runner"]

T = TypeVar("T")


class _Call:
    """One call's state, shared by the waiting thread and the loop."""

    __slots__ = ("abandoned", "coro", "done", "task")

    def __init__(self, coro: Coroutine[Any, Any, Any]) -> None:
        self.coro = coro
        self.done = threading.Event()
        self.task: asyncio.Task[Any] | None = None
        self.abandoned = False

    async def run(self) -> Any:
        if self.abandoned:  # the caller gave up before the loop got here
            return None
        self.task = asyncio.current_task()
        try:
            return await self.coro
        finally:
            self.task = None  # (the task holds this frame's error; the frame, this call)
            self.done.set()

    def abandon(self) -> None:
        """On the loop: stop the call (its task, or the coroutine that never started)."""
        self.abandoned = True
        if self.task is not None:
            self.task.cancel()
        else:
            self.coro.close()
            self.done.set()


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    loop.run_forever()


def _stop(loop: asyncio.AbstractEventLoop, thread: threading.Thread, engine: Engine | None,
          ) -> None:
    """Close the pool (if given), cancel what is left on the loop, stop and join its thread."""
    if loop.is_closed():
        return
    if thread.is_alive():
        async def wind_down() -> None:
            if engine is not None:
                await engine.close()
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in others:
                t.cancel()
            await asyncio.gather(*others, return_exceptions=True)
        if threading.current_thread() is not thread:
            asyncio.run_coroutine_threadsafe(wind_down(), loop).result()
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
        else:  # collected on the loop thread itself: let the loop stop after this callback
            loop.call_soon(loop.stop)
            return
    loop.close()


class Runner:
    """A private event loop on a daemon thread, and the one way to run coroutines on it."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=_serve, args=(self.loop,), daemon=True,
                                        name="clauderoute-client-loop")
        self._thread.start()
        self.closed = False
        self._finalizer = weakref.finalize(self, _stop, self.loop, self._thread, engine)

    @property
    def thread(self) -> threading.Thread:
        """The loop's thread."""
        return self._thread

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and wait for its result (or exception)."""
        if self.closed:
            coro.close()
            raise RuntimeError("the client is closed")
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("a synchronous Client cannot be called from its own event loop "
                               "(from a hook or observer): use an AsyncClient there")
        call = _Call(coro)
        future = asyncio.run_coroutine_threadsafe(call.run(), self.loop)
        try:
            result: T = future.result()
        except BaseException:
            if future.cancel():  # this thread was interrupted while the call still runs
                self.loop.call_soon_threadsafe(call.abandon)
                call.done.wait()
            del call, future  # (the error's traceback keeps this frame: it must not keep them)
            raise
        return result

    def iterate(self, source: AsyncIterator[T]) -> Iterator[T]:
        """The items of an async iterator, each fetched on the loop; closing the iterator early
        closes ``source``."""
        finished = False
        try:
            while True:
                step = self.run(_step(source))
                if step is None:
                    finished = True
                    return
                yield step[0]
        finally:
            aclose = getattr(source, "aclose", None)
            if not finished and aclose is not None and not self.closed:
                self.run(aclose())

    def close(self) -> None:
        """Close the pool and stop the loop and its thread (once)."""
        if not self.closed:
            self.closed = True
            self._finalizer()


async def _step(source: AsyncIterator[T]) -> tuple[T] | None:
    try:
        return (await anext(source),)
    except StopAsyncIteration:
        return None


class Client:
    """The synchronous client: ``AsyncClient``'s surface, each call waited for.

    Takes the same arguments as ``AsyncClient`` (``api_key``, ``auth_token``, ``base_url``,
    ``timeout``, ``max_retries``, ``default_headers`` as ``anthropic.Anthropic`` takes them, or
    ``providers=``, or nothing to read ``clauderoute.toml`` / the environment). Streams iterate
    synchronously: ``with client.messages.stream(...) as s: for text in s.text_stream: ...``.
    Safe to share between threads. Use ``with Client() as client`` or ``client.close()``.

    .. versionadded:: 0.2
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        auth_token: str | None = None,
        base_url: str | None = None,
        timeout: float | None | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | None = None,
        providers: Sequence[Provider] | None = None,
        policy: Policy | None = None,
        connect_timeout: float = 5.0,
        deadline: float | None = None,
        first_token_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | bool | None = None,
        hedging: Hedging | None = None,
        hooks: Sequence[Hook] = (),
        observers: Sequence[Observer] = (),
        tracing: bool = True,
        signals: Signals | bool | None = None,
    ) -> None:
        inner = AsyncClient(
            api_key=api_key, auth_token=auth_token, base_url=base_url, timeout=timeout,
            max_retries=max_retries, default_headers=default_headers, providers=providers,
            policy=policy, connect_timeout=connect_timeout, deadline=deadline,
            first_token_timeout=first_token_timeout, retry=retry, breaker=breaker,
            hedging=hedging, hooks=hooks, observers=observers, tracing=tracing,
            signals=signals)
        self._bind(inner, Runner(inner.engine), owner=True)

    def _bind(self, inner: AsyncClient, runner: Runner, *, owner: bool) -> None:
        from ._sync_resources import SyncMessages  # the sync resources, on first client

        self._async = inner
        self._runner = runner
        self._owner = owner
        self._closed = False
        self.messages: SyncMessages = SyncMessages(inner.messages, runner)
        self._models: SyncModels | None = None
        self._beta: SyncBeta | None = None

    @classmethod
    def _of(cls, inner: AsyncClient, runner: Runner | None = None) -> Client:
        client = object.__new__(cls)
        client._bind(inner, runner or Runner(inner.engine), owner=runner is None)
        return client

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None, *,
                    providers_registry: Mapping[str, type[Provider]] | None = None,
                    **overrides: Any) -> Client:
        """A client as a config file, or the environment alone, describes it (see
        ``AsyncClient.from_config``)."""
        return cls._of(AsyncClient.from_config(path, providers_registry=providers_registry,
                                               **overrides))

    def with_options(self, *, api_key: str | None = None, auth_token: str | None = None,
                     base_url: str | None = None,
                     timeout: float | None | NotGiven = NOT_GIVEN,
                     max_retries: int | NotGiven = NOT_GIVEN,
                     default_headers: Mapping[str, str] | None = None,
                     deadline: float | None | NotGiven = NOT_GIVEN,
                     first_token_timeout: float | None | NotGiven = NOT_GIVEN) -> Client:
        """A copy with some settings changed (see ``AsyncClient.with_options``), sharing this
        client's connections and loop thread; closing the copy leaves them open, closing this
        client closes them for both."""
        inner = self._async.with_options(
            api_key=api_key, auth_token=auth_token, base_url=base_url, timeout=timeout,
            max_retries=max_retries, default_headers=default_headers, deadline=deadline,
            first_token_timeout=first_token_timeout)
        return type(self)._of(inner, self._runner)

    copy = with_options

    @property
    def async_client(self) -> AsyncClient:
        """The ``AsyncClient`` this client runs (use it only on ``loop``)."""
        return self._async

    @property
    def models(self) -> SyncModels:
        """``client.models``: the Models API."""
        if self._models is None:
            from ._sync_resources import SyncModels

            self._models = SyncModels(self._async.models, self._runner)
        return self._models

    @property
    def beta(self) -> SyncBeta:
        """``client.beta.files`` and ``client.beta.skills``."""
        if self._beta is None:
            from ._sync_resources import SyncBeta

            self._beta = SyncBeta(self._async.beta, self._runner)
        return self._beta

    @property
    def providers(self) -> list[Provider]:
        """The configured providers, in order."""
        return self._async.providers

    def __repr__(self) -> str:
        return repr(self._async).replace("<AsyncClient", "<Client", 1)

    def close(self) -> None:
        """Close every pooled connection and stop the loop thread (the copies made with
        ``with_options`` only mark themselves closed)."""
        if self._closed:
            return
        self._closed = True
        if self._owner:
            self._runner.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
