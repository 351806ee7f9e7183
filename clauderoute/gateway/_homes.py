"""Which provider holds each object (file, skill, batch), across the gateway's workers.

An object lives on the one platform that made it; the library remembers the provider of every
object it created or listed (``client.object_homes``), but only in its own process. With
``--workers N``, or several gateways behind one address, the next call about an object may reach
a worker that never saw it. So:

* with ``[state]`` configured, each home is published through the fleet state (kind ``home``,
  merged into every worker's copy within ``sync_ms``), and a worker that does not know an id
  reads it from Redis at once;
* without state (or when Redis does not know it yet), the worker asks each provider that has
  the API in turn, taking a 404 as "not here", and remembers the answer; an id no provider holds
  is remembered as unknown for ``UNKNOWN_S``, so a bad id does not fan out on every call.

Messages (and batch requests) that name a ``file_id`` or a custom skill are sent where the
object lives the same way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from .. import _errors as E
from .._operations import needs_of, referenced_ids

if TYPE_CHECKING:
    from .._client import AsyncClient

__all__ = ["UNKNOWN_S", "Homes", "fleet_of"]

#: Seconds an id that no provider holds is answered from memory (not asked for again).
UNKNOWN_S = 10.0
#: How long the fleet state keeps a home (files and skills live until deleted; batches 29 days).
HOME_TTL_S = 30 * 86400.0
_MAX_UNKNOWN = 10_000
_KIND = "home"


def fleet_of(client: AsyncClient) -> Any:
    """The client's ``FleetState`` (``[state]`` configured), else ``None``."""
    router = client.router
    for holder in (router.breaker, getattr(router.signals, "state", None)):
        fleet = getattr(holder, "fleet", None)
        if fleet is not None and callable(getattr(fleet, "status", None)):
            return fleet
    return None


def kind_of(object_id: str) -> str:
    """``file``, ``skill`` or ``batch``, from the id's prefix (what the probe asks for)."""
    if object_id.startswith("skill"):
        return "skill"
    if object_id.startswith("msgbatch"):
        return "batch"
    return "file"


class Homes:
    """The homes one client's requests use (a config reload makes a new one)."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.known = client.object_homes  # the library's own map: every resource reads it
        self.fleet = fleet_of(client)
        self._unknown: dict[str, float] = {}  # id -> monotonic time it may be asked again
        self._pending: dict[str, asyncio.Task[str | None]] = {}
        if self.fleet is not None and callable(getattr(self.fleet, "read", None)):
            self.fleet.register(_KIND, self._merge)
        else:
            self.fleet = None

    def _merge(self, key: str, payload: bytes, ttl_s: float) -> None:
        self.known[key] = payload.decode()

    async def record(self, object_id: str | None, provider: str | None) -> None:
        """``object_id`` lives on ``provider`` (just made, or found): tell the other workers,
        with the key written before the answer goes out, so that the client's next call finds
        it whichever worker takes it."""
        if not object_id or not provider:
            return
        self.known[object_id] = provider
        self._unknown.pop(object_id, None)
        if self.fleet is not None:
            await self.fleet.write(_KIND, object_id, provider.encode(), HOME_TTL_S)

    async def locate(self, object_id: str) -> str | None:
        """The provider holding ``object_id``, or ``None`` when no provider does (or none
        could say): the call then goes where the library sends it, and gets that answer."""
        home = self.known.get(object_id)
        if home is not None:
            return home
        if self._unknown.get(object_id, 0.0) > time.monotonic():
            return None
        search = self._pending.get(object_id)
        if search is None:  # one search per id, in a task of its own: a caller that leaves
            # (its client disconnected) neither stops it nor fails the others waiting on it
            search = asyncio.get_running_loop().create_task(self._find(object_id))
            self._pending[object_id] = search
            search.add_done_callback(lambda _t: self._pending.pop(object_id, None))
        return await asyncio.shield(search)

    async def _find(self, object_id: str) -> str | None:
        if self.fleet is not None:
            got = await self.fleet.read(_KIND, object_id)
            if got is not None:
                home: str = got.decode()
                self.known[object_id] = home
                return home
        unsure = False
        probe = self._probe(kind_of(object_id))
        for p in self.client.router.providers:
            try:
                await probe(object_id, p.name)
            except E.NotFoundError:
                continue  # not here
            except E.CapabilityError:
                continue  # no such API on this platform: cannot be here
            except E.ClauderouteError:
                unsure = True  # no answer (an outage, a timeout): it may be there
                continue
            await self.record(object_id, p.name)
            return p.name
        if not unsure:
            if len(self._unknown) >= _MAX_UNKNOWN:
                self._unknown.clear()
            self._unknown[object_id] = time.monotonic() + UNKNOWN_S
        return None

    def _probe(self, kind: str) -> Callable[..., Awaitable[Any]]:
        c = self.client
        if kind == "skill":
            return lambda oid, name: c.skills.retrieve(oid, provider=name)
        if kind == "batch":
            return lambda oid, name: c.messages.batches.retrieve(oid, provider=name)
        return lambda oid, name: c.files.retrieve_metadata(oid, provider=name)

    async def home_of(self, params_list: Iterable[dict[str, Any]]) -> str | None:
        """The one provider holding every file and custom skill the Messages requests name
        (``None``: they name none, or none is known); refused when they are on two."""
        homes: set[str] = set()
        for params in params_list:
            needs = needs_of(params)
            if not needs:
                continue
            for oid in referenced_ids(params, needs):
                home = await self.locate(oid)
                if home is not None:
                    homes.add(home)
        if len(homes) > 1:
            raise E.InvalidRequestError(
                "names uploaded files or skills held on different providers "
                f"({', '.join(sorted(homes))}); one request can use one platform's objects only",
                field="messages",
            )
        return homes.pop() if homes else None
