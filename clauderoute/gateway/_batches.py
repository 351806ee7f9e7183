"""Message Batches through the gateway, on a provider that has them.

A batch lives on one platform: the library remembers which provider created (or listed) each
batch id and sends later calls about it there (``client.object_homes``). Answers are the
platform's own JSON, forwarded as received but for ``results_url``, which points at the gateway;
results are the platform's JSONL, one line per request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web

from .. import _errors as E
from ._errors import error_response
from ._handlers import fail, find_homes, options, read_body, wire

if TYPE_CHECKING:
    from ._app import Exchange, Gateway

__all__ = ["ROUTES"]

_encode = msgspec.json.Encoder().encode


def _batch(obj: Any, request: web.Request) -> bytes:
    """A batch's JSON with ``results_url`` on the gateway: the SDKs fetch results from that
    URL, and the platform's own would get the client's gateway key (and the platform's
    address need not be reachable from the client)."""
    data = wire(obj)
    if b"results_url" not in data:
        return data
    fields = msgspec.json.decode(data)
    if isinstance(fields, dict) and fields.get("results_url") and fields.get("id"):
        fields["results_url"] = f"{request.url.origin()}/v1/messages/batches/{fields['id']}/results"
        return _encode(fields)
    return data


def _json(obj: Any, x: Exchange, request: web.Request) -> web.Response:
    x.provider = getattr(obj, "provider", None) or x.provider
    return web.Response(
        body=_batch(obj, request), content_type="application/json", headers={"request-id": x.rid}
    )


def _pin(request: web.Request) -> str | None:
    return request.headers.get("x-clauderoute-provider") or None


async def _placed(request: web.Request, x: Exchange, batch_id: str) -> str | None:
    """The pin, else the batch's home (another worker may have made it), else ``None``."""
    return _pin(request) or await x.homes.locate(batch_id)


async def create(gw: Gateway, request: web.Request, x: Exchange) -> web.StreamResponse:
    """``POST /v1/messages/batches``."""
    body = await read_body(gw, request, x)
    opts = options(request, x)
    requests = body.pop("requests", None)
    if not isinstance(requests, list):
        return error_response(400, "requests: must be a list of {custom_id, params}", x.rid)
    if x.refs:  # requests that name uploaded files or skills go where those live
        params = [
            r["params"]
            for r in requests
            if isinstance(r, dict) and isinstance(r.get("params"), dict)
        ]
        home = await find_homes(x, params, opts)
        if home is not None:
            opts["provider"] = home
    try:
        batch = await x.client.messages.batches.create(requests=requests, **opts)
    except E.ClauderouteError as exc:
        return fail(exc, x)
    await x.homes.record(batch.id, getattr(batch, "provider", None))
    return _json(batch, x, request)


async def one(gw: Gateway, request: web.Request, x: Exchange) -> web.StreamResponse:
    """``GET``/``DELETE /v1/messages/batches/{id}`` and ``POST .../{id}/cancel``."""
    batches, batch_id = x.client.messages.batches, request.match_info["batch_id"]
    pin = await _placed(request, x, batch_id)
    try:
        if request.method == "DELETE":
            obj: Any = await batches.delete(batch_id, provider=pin)
        elif request.path.endswith("/cancel"):
            obj = await batches.cancel(batch_id, provider=pin)
        else:
            obj = await batches.retrieve(batch_id, provider=pin)
    except E.ClauderouteError as exc:
        return fail(exc, x)
    return _json(obj, x, request)


async def listing(gw: Gateway, request: web.Request, x: Exchange) -> web.StreamResponse:
    """``GET /v1/messages/batches`` (``limit``, ``after_id``, ``before_id``)."""
    q = request.query
    try:
        limit = int(q["limit"]) if "limit" in q else None
    except ValueError:
        return error_response(400, "limit: must be an integer", x.rid)
    try:
        page = await x.client.messages.batches.list(
            limit=limit,
            after_id=q.get("after_id"),
            before_id=q.get("before_id"),
            provider=_pin(request),
        )
    except E.ClauderouteError as exc:
        return fail(exc, x)
    data = b",".join(_batch(b, request) for b in page.data)
    head = _encode(
        {"has_more": bool(page.has_more), "first_id": page.first_id, "last_id": page.last_id}
    )
    return web.Response(
        body=b'{"data":[' + data + b"]," + head[1:],
        content_type="application/json",
        headers={"request-id": x.rid},
    )


async def results(gw: Gateway, request: web.Request, x: Exchange) -> web.StreamResponse:
    """``GET /v1/messages/batches/{id}/results``: JSONL, streamed line by line."""
    batch_id = request.match_info["batch_id"]
    try:
        lines = await x.client.messages.batches.results(
            batch_id, provider=await _placed(request, x, batch_id)
        )
    except E.ClauderouteError as exc:
        return fail(exc, x)
    resp = web.StreamResponse(headers={"request-id": x.rid, "content-type": "application/binary"})
    async with lines:
        await resp.prepare(request)
        try:
            async for item in lines:
                await resp.write(wire(item) + b"\n")
        except E.ClauderouteError as exc:  # headers are sent: end the body short
            x.error_type = type(exc).__name__
    await resp.write_eof()
    return resp


ROUTES = [
    ("POST", "/v1/messages/batches", "batches.create", create),
    ("GET", "/v1/messages/batches", "batches.list", listing),
    ("GET", "/v1/messages/batches/{batch_id}", "batches.retrieve", one),
    ("DELETE", "/v1/messages/batches/{batch_id}", "batches.delete", one),
    ("POST", "/v1/messages/batches/{batch_id}/cancel", "batches.cancel", one),
    ("GET", "/v1/messages/batches/{batch_id}/results", "batches.results", results),
]
