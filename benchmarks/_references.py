"""Create-only references that ``instructions.py`` counts beside the clients of ``_clients.py``
(``overhead.py`` does not run them: they have no streams).

* ``aiohttp-typed``: the floor plus the least any client with clauderoute's promises does per
  create: check the request (the check clauderoute runs, naming a wrong field before the
  network), encode it, arm and cancel one deadline timer, and decode the answer into the typed
  ``Message`` (unknown blocks kept). What it costs over the floor is the part of clauderoute's
  overhead that no routing design can remove.
* ``lane-bare`` and ``lane-kept``: measurements of a design not built, a one-provider lane
  that would bypass the router on a call's first attempt (an error would still need the
  router's loop for retries, which these do not have). Both drive a default ``AsyncClient``'s
  own provider and engine: ``lane-bare`` checks the request, lets the provider shape and parse,
  sends through the engine and puts a one-attempt route on the message; ``lane-kept`` also
  keeps what a default client records on success (the attempt and route contexts and
  ``send_message``, the latency sample, the breaker's success, the cost, the rate-limit
  headers check). Neither admits through the signals.
"""

from __future__ import annotations

from typing import Any

import msgspec
from _clients import AiohttpFloor, Clauderoute, Driver, WrongAnswer, _params, _text


class TypedFloor(AiohttpFloor):
    name = "aiohttp-typed"

    async def start(self) -> None:
        import asyncio

        from clauderoute._validate import validate_create
        from clauderoute.types._messages import decode_message

        await super().start()
        self._loop = asyncio.get_running_loop()
        self._validate, self._typed = validate_create, decode_message

    async def create(self) -> None:
        params = _params()
        self._validate(params)
        loop = self._loop
        timer = loop.call_at(loop.time() + 600.0, _never)  # a deadline, cancelled on the answer
        async with self._session.post(
            self._endpoint, data=msgspec.json.encode(params), headers=self._headers
        ) as r:
            body = await r.read()
        timer.cancel()
        if r.status != 200:
            raise WrongAnswer(f"aiohttp-typed create: HTTP {r.status}")
        self._check_create(_text(self._typed(body)))

    async def stream(self, deltas: int) -> None:
        raise NotImplementedError("a create-only reference (instructions.py)")


def _never() -> None:
    raise AssertionError("the reference's deadline fired")


class LaneBare(Clauderoute):
    name = "lane-bare"

    async def start(self) -> None:
        import time

        from clauderoute._provider import Call
        from clauderoute._validate import validate_create
        from clauderoute.types import AttemptInfo, RouteInfo

        await super().start()
        self._router = self._client.router
        self._p = self._router.providers[0]
        self._validate, self._call, self._clock = validate_create, Call, time.perf_counter
        self._attempt, self._route = AttemptInfo, RouteInfo

    def _record(self, msg: Any, model: str, seconds: float, status: int, usd: float | None) -> None:
        p = self._p
        info = self._attempt(
            number=1,
            provider=p.name,
            platform=p.platform,
            model=model,
            kind="initial",
            duration_s=seconds,
            status=status,
            cost_usd=usd,
        )
        msg.route = self._route(
            provider=p.name, platform=p.platform, attempts=(info,), cost_usd=usd
        )

    async def create(self) -> None:
        params = self.params()
        self._validate(params)
        p = self._p
        call = self._call(operation="create", params=params)
        request = await p.prepare(call)
        start = self._clock()
        response = await self._router.engine.send(request, timeout=600.0, platform=p.name)
        msg = p.parse(call, response)
        seconds = self._clock() - start
        self._record(msg, p.model_id(params["model"]), seconds, response.status, None)
        self._served(msg)
        self._check_create(_text(msg))


class LaneKept(LaneBare):
    name = "lane-kept"

    async def start(self) -> None:
        from clauderoute._attempt import send_message
        from clauderoute._cost import cost
        from clauderoute._ratelimits import RATE_LIMIT_HEADERS
        from clauderoute.routing import AttemptContext, RouteContext

        await super().start()
        self._send, self._cost, self._limits = send_message, cost, RATE_LIMIT_HEADERS
        self._actx, self._rctx = AttemptContext, RouteContext

    async def create(self) -> None:
        params = self.params()
        self._validate(params)
        p, router = self._p, self._router
        call = self._call(operation="create", params=params)
        ctx = self._actx(router, p, call, 1, 600.0, None, self._rctx(call, None))
        msg = await self._send(ctx)
        if not self._limits.isdisjoint(ctx.headers):  # (the signals would learn the limits)
            raise WrongAnswer("lane-kept: the server sent rate-limit headers")
        model, seconds = ctx.requested_model, self._clock() - ctx.sent
        router.stats.record(p.name, model, seconds)
        if router.breaker is not None:
            router.breaker.success(p.name, model)
        usd = self._cost(msg.usage, model, multiplier=1.0)
        self._record(msg, ctx.model_id, seconds, ctx.status, usd)
        self._served(msg)
        self._check_create(_text(msg))


REFERENCES: dict[str, type[Driver]] = {d.name: d for d in (TypedFloor, LaneBare, LaneKept)}
