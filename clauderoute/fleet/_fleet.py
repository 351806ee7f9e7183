"""``FleetState``: a local copy of the fleet's routing state, kept in step through Redis.

Nothing on the request path waits for Redis. Readers use the local copy; writers queue a change
(``publish``) and return. One background task per event loop, every ``sync_ms``:

1. merges the changes other processes published (one pub/sub channel, batched messages);
2. writes this process's queued changes as keys with an expiry and publishes them, in one
   pipelined round trip (the same key written twice in a tick is written once);
3. runs the registered tick hooks (budget reservations, the half-open probe claim), which
   make their own round trips off the request path.

On (re)connection it reads every key under the prefix (``SCAN``), so a restarted process, or
one that missed messages while Redis was away, catches up. Any Redis trouble (refused, reset,
an operation slower than ``op_timeout_ms``) is logged once, flips ``live`` to ``False`` (every
user of this state then falls back to its in-process behaviour), and the task reconnects with
exponential backoff. A flushed (or replaced, empty) Redis is not trouble: the epoch key holds
a random value; a publish that finds it gone (its pipeline sets it) or a check every
``check_s`` that finds it gone or changed tells every process (one message) to re-announce what
it owns (open circuits); they stay live.

.. versionadded:: 0.2
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from ._conn import close, connect, instruments
from ._direct import DirectOps
from ._epoch import EpochOps, new_token
from ._settings import StateSettings, redacted

__all__ = ["FleetState", "Handler"]

log = logging.getLogger("clauderoute.fleet")

#: ``(key, payload, seconds it still lives)``: applies one remote change to the local copy.
Handler = Callable[[str, bytes, float], None]

_enc = msgspec.msgpack.Encoder()
_batch = msgspec.msgpack.Decoder(tuple[str, list[tuple[str, str, bytes, int]]])


class FleetState(DirectOps, EpochOps):
    """The local copy and its sync task (see the module docstring).

    Args:
        settings: the ``[state]`` table.
        meter_provider: OpenTelemetry meter provider (default: the global one) for
            ``clauderoute.state.live`` and ``clauderoute.state.outages``.

    Attributes:
        live: whether the copy is currently kept in step (users fall back when ``False``).
        ops: Redis operations made (each pipeline or script call counts once).
        failures: failed (re)connections and operations (each retry during an outage counts).
        outages: times the state went from live (or starting) to Redis trouble.
        flushes: times Redis was found emptied (``FLUSHALL``, a failover to an empty replica).

    .. versionadded:: 0.2
    """

    def __init__(self, settings: StateSettings, *, meter_provider: Any = None) -> None:
        self.settings = settings
        self.origin = os.urandom(6).hex()  # this process (or client) in published batches
        self.sync_s = settings.sync_ms / 1000
        self.op_s = settings.op_timeout_ms / 1000
        self.live = False
        self.ops = 0
        self.failures = 0
        self.outages = self.flushes = 0
        self.last_error: str | None = None
        self._handlers: dict[str, Handler] = {}
        self._hooks: list[Callable[[Any], Awaitable[None]]] = []
        self._on_sync: list[Callable[[], None]] = []
        self._soon: set[Callable[[Any], Awaitable[None]]] = set()
        self._soon_tasks: set[asyncio.Task[None]] = set()
        self._outbox: dict[tuple[str, str], tuple[bytes, int]] = {}
        self._task: asyncio.Task[None] | None = None
        self._redis: Any = None
        self._pubsub: Any = None
        self._extra: list[Any] = []
        self._closing: dict[asyncio.Task[None], float] = {}  # closes under way: their deadline
        self._closed = False
        self._epoch: bytes | None = None
        #: Seconds between checks, while nothing is published, that Redis still holds our keys.
        self.check_s = 5.0
        self._checked = 0.0
        self._outages = instruments(self, meter_provider)

    def __repr__(self) -> str:
        return f"<FleetState {redacted(self.settings.url)} {self.status()['state']}>"

    # --- used by the state kinds (request path: no I/O) ----------------------------------

    def key(self, kind: str, key: str) -> str:
        """The Redis key of one piece of state."""
        return f"{self.settings.prefix}:{kind}:{key}"

    def register(self, kind: str, handler: Handler) -> None:
        """Call ``handler`` for every remote change of ``kind`` (and for each key on re-sync)."""
        self._handlers[kind] = handler

    def on_tick(self, hook: Callable[[Any], Awaitable[None]]) -> None:
        """Run ``hook(redis)`` after every merge and flush (its errors take the state down)."""
        self._hooks.append(hook)

    def soon(self, hook: Callable[[Any], Awaitable[None]]) -> None:
        """Run a tick hook now, in a task of its own (off the request path), rather than at the
        next tick: a budget lease that ran dry is topped up at once. At most one run per hook
        is in flight; a failure is left for the sync task to notice."""
        if not self.live or self._redis is None or hook in self._soon:
            return
        self._soon.add(hook)
        task = asyncio.get_running_loop().create_task(self._run_soon(hook, self._redis))
        self._soon_tasks.add(task)
        task.add_done_callback(self._soon_tasks.discard)

    async def _run_soon(self, hook: Callable[[Any], Awaitable[None]], redis: Any) -> None:
        try:
            await hook(redis)
        except Exception:  # noqa: BLE001, S110  (the sync task's next op finds the trouble)
            pass
        finally:
            self._soon.discard(hook)

    def on_sync(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after each (re)connection's re-sync, to re-announce what this
        process owns (Redis may have been flushed or replaced while it was away)."""
        self._on_sync.append(callback)

    def publish(self, kind: str, key: str, payload: bytes, ttl_s: float) -> None:
        """Queue a change for the next tick (the newest payload per key wins)."""
        self._outbox[kind, key] = (payload, max(1, int(ttl_s * 1000)))
        self.start()

    def start(self) -> None:
        """Start the sync task on the running loop, if there is one and it is not running."""
        t = self._task
        if self._closed or (t is not None and not t.done()):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._task = loop.create_task(self._run(), name="clauderoute-fleet-sync")

    def status(self) -> dict[str, Any]:
        """What ``/readyz`` shows: ``state`` is ``ok``, ``degraded`` (Redis trouble: this
        process runs on its own state) or ``starting``; never the URL's password."""
        state = "ok" if self.live else "degraded" if self.failures else "starting"
        return {
            "state": state,
            "live": self.live,
            "url": redacted(self.settings.url),
            "outages": self.outages,
            "failures": self.failures,
            "ops": self.ops,
            "last_error": self.last_error,
        }

    async def aclose(self, release: tuple[tuple[str, str], ...] = ()) -> None:
        """Stop syncing and close the connections; first flush what is queued and delete the
        ``(kind, key)`` pieces in ``release`` (claims this process gives up), best effort."""
        if self.live and self._redis is not None and not self._closed:
            try:
                await self._flush()
                if release:
                    await self.op(self._redis.delete(*(self.key(*k) for k in release)))
            except Exception:  # noqa: BLE001, S110  (shutting down: Redis may be gone)
                pass
        self._closed = True
        t, self._task = self._task, None
        tasks = [
            x
            for x in (t, *self._soon_tasks)
            if x is not None and x.get_loop() is asyncio.get_running_loop()
        ]
        for x in tasks:
            x.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._disconnect()
        await self._settle()  # (closes that the sync task's cancellation left running)
        self.live = False

    # --- the sync task -----------------------------------------------------------------------

    async def _run(self) -> None:
        from redis.exceptions import RedisClusterException, RedisError

        trouble = (RedisError, RedisClusterException, OSError, TimeoutError, ConnectionError)
        delay = self.sync_s
        while not self._closed:
            try:
                await self._connect()
                await self._resync()
                self._up()
                for callback in self._on_sync:
                    callback()
                delay = self.sync_s
                while not self._closed:  # (a cancellation swallowed below must not loop on)
                    await self._tick()
            except asyncio.CancelledError:
                await self._disconnect()  # (the loop is ending, or aclose() was called)
                raise
            except trouble as exc:  # any Redis trouble: fall back, log once, retry later
                self._down(exc)
                await self._disconnect()
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(self.settings.max_backoff_ms / 1000, delay * 2)

    async def op(self, aw: Awaitable[Any], count: int = 1) -> Any:
        """Await one Redis operation under the per-operation timeout."""
        self.ops += count
        async with asyncio.timeout(self.op_s):
            return await aw

    async def _connect(self) -> None:
        self._redis, self._extra = connect(self.settings)
        await self.op(self._redis.ping())
        self._pubsub = self._redis.pubsub()
        await self.op(self._pubsub.subscribe(self._channel))
        await self.op(self._redis.set(self.key("epoch", "0"), new_token(), nx=True))
        self._epoch = await self.op(self._redis.get(self.key("epoch", "0")))

    @property
    def _channel(self) -> str:
        return f"{self.settings.prefix}:events"

    async def _disconnect(self) -> None:
        """Close this connection's clients (and stop the tick hooks running on them) in a task
        of its own, and wait for it at most ``op_timeout_ms`` per client: a close that takes
        longer, or a cancellation of the caller, leaves it running to its end rather than
        dropping a client halfway through its close with sockets open."""
        clients = [c for c in (self._pubsub, self._redis, *self._extra) if c is not None]
        self._pubsub = self._redis = None
        self._extra = []
        if not clients:
            return
        loop = asyncio.get_running_loop()
        users = [t for t in self._soon_tasks if t.get_loop() is loop]
        for t in users:
            t.cancel()
        task = loop.create_task(close(clients, users), name="clauderoute-fleet-close")
        self._closing[task] = loop.time() + self.op_s * len(clients)
        task.add_done_callback(self._closing.pop)
        await self._settle()

    async def _settle(self) -> None:
        """Wait for the closes under way on this loop, each until its deadline at most."""
        loop = asyncio.get_running_loop()
        tasks = [t for t in self._closing if t.get_loop() is loop]
        if tasks:
            end = max(self._closing.get(t, 0.0) for t in tasks)
            await asyncio.wait(tasks, timeout=max(0.0, end - loop.time()))

    def _up(self) -> None:
        if self.failures:
            log.warning(
                "clauderoute state: Redis at %s is back; shared state re-synced",
                redacted(self.settings.url),
            )
        self.live, self.last_error = True, None

    def _down(self, exc: BaseException) -> None:
        what = self._clean(exc)
        if self.live or self.failures == 0:  # once per outage, not once per retry
            log.warning(
                "clauderoute state: Redis at %s unavailable (%s); routing on this "
                "process's own state until it is back",
                redacted(self.settings.url),
                what,
            )
        if self.live or self.failures == 0:
            self._outages.add(1, {"error.type": type(exc).__name__})
            self.outages += 1
        self.live = False
        self.failures += 1
        self.last_error = what

    def _clean(self, exc: BaseException) -> str:
        """An error's class and message with any part of the URL's credentials removed."""
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        url = self.settings.url
        userinfo = url.split("://", 1)[-1].rpartition("@")[0]
        for secret in (url, userinfo, *userinfo.split(":")):
            if len(secret) >= 3:
                text = text.replace(secret, "***")
        return text[:200]

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + self.sync_s
        while True:
            left = max(0.0, end - loop.time())
            async with asyncio.timeout(left + self.op_s):
                msg = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
            if msg is not None and msg.get("type") == "message":
                self._merge(msg["data"])
            if loop.time() >= end:
                break
        await self._flush()
        for hook in self._hooks:
            await hook(self._redis)
        if loop.time() - self._checked >= self.check_s:
            self._checked = loop.time()
            epoch = await self.op(self._redis.get(self.key("epoch", "0")))
            if epoch is None:
                await self._emptied()
            elif epoch != self._epoch:  # another process found it emptied: we missed that
                self._renew(epoch)

    def _merge(self, data: bytes) -> None:
        try:
            origin, changes = _batch.decode(data)
        except msgspec.DecodeError:
            return  # not ours (another program on the channel): ignore
        if origin == self.origin:
            return
        for kind, key, payload, ttl_ms in changes:
            self._apply(kind, key, payload, ttl_ms / 1000)

    def _apply(self, kind: str, key: str, payload: bytes, ttl_s: float) -> None:
        if kind == "epoch":
            self._renew(payload)
            return
        handler = self._handlers.get(kind)
        if handler is not None:
            try:
                handler(key, payload, ttl_s)
            except (msgspec.DecodeError, msgspec.ValidationError, ValueError, TypeError):
                pass  # a malformed or foreign value is skipped, never fatal

    async def _flush(self) -> None:
        if not self._outbox:
            return
        items, self._outbox = self._outbox, {}
        pipe = self._redis.pipeline(transaction=False)
        token = new_token()
        pipe.set(self.key("epoch", "0"), token, nx=True)  # set: it was gone (flushed)
        for (kind, key), (payload, ttl_ms) in items.items():
            pipe.set(self.key(kind, key), payload, px=ttl_ms)
        batch = [(kind, key, payload, ttl) for (kind, key), (payload, ttl) in items.items()]
        message = _enc.encode((self.origin, batch))
        if not self.settings.cluster:  # (a cluster pipeline refuses PUBLISH: sent after it)
            pipe.publish(self._channel, message)
        try:
            emptied = (await self.op(pipe.execute()))[0]
            if self.settings.cluster:
                await self.op(self._redis.publish(self._channel, message))
        except BaseException:
            for k, v in items.items():  # not sent: send with the next tick, newer changes win
                self._outbox.setdefault(k, v)
            raise
        if emptied:
            await self._emptied(token)

    async def _resync(self) -> None:
        """Read every key under the prefix into the local copy (a restart's catch-up)."""
        prefix = self.settings.prefix + ":"
        keys: list[str] = []
        # scan_iter: a cluster's SCAN answers per node; each step is one operation, timed
        scan = self._redis.scan_iter(match=prefix + "*", count=1000)
        self.ops += 1  # (counted once: most steps return a key already received)
        while (k := await self.op(anext(scan, None), 0)) is not None:
            keys.append(k.decode() if isinstance(k, bytes) else k)
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            pipe = self._redis.pipeline(transaction=False)
            for k in chunk:
                pipe.get(k)
                pipe.pttl(k)
            got = await self.op(pipe.execute())
            for j, k in enumerate(chunk):
                payload, ttl_ms = got[2 * j], got[2 * j + 1]
                kind, _, key = k[len(prefix) :].partition(":")
                if isinstance(payload, bytes) and isinstance(ttl_ms, int) and ttl_ms > 0:
                    self._apply(kind, key, payload, ttl_ms / 1000)
