"""The Claude API's endpoints, answered through the library's client and router.

The gateway decodes only what routing needs: the request body once (the library validates it
and builds the platform's request), and, for streams, the events for accounting while the
platform's own SSE bytes go to the client unchanged (``MessageStream.raw()``). A platform with
another framing (Bedrock's event-stream) has its events encoded as SSE here.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import StreamReader, web

from .. import _errors as E
from ._errors import error_of, error_response, sse_error, stream_error_type

if TYPE_CHECKING:
    from ..types._messages import RouteInfo
    from ._app import Exchange, Gateway

__all__ = [
    "Refused",
    "count_tokens",
    "fail",
    "find_homes",
    "messages",
    "model",
    "models",
    "options",
    "read_body",
    "wire",
]

# Names the library takes as call options; in a body they would be misread, and the Claude API
# refuses unknown top-level fields anyway.
_RESERVED = frozenset(
    {
        "provider",
        "providers",
        "timeout",
        "deadline",
        "extra_headers",
        "extra_query",
        "extra_body",
        "betas",
    }
)
_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}")
_decode = msgspec.json.Decoder(dict[str, Any]).decode
_encode = msgspec.json.Encoder().encode


def wire(obj: Any) -> bytes:
    """An object of the Files, Skills or Batches APIs as the platform sent it (the library keeps
    the raw JSON), else encoded: what the gateway forwards."""
    raw = getattr(obj, "__dict__", {}).get("_raw")
    return bytes(raw) if raw is not None else _encode(obj)


class Refused(Exception):
    """A request the gateway answers itself, with this response."""

    def __init__(self, response: web.Response) -> None:
        self.response = response


async def read_body(gw: Gateway, request: web.Request, x: Exchange) -> dict[str, Any]:
    """The JSON object of the request, read within the size and time limits.

    A declared ``Content-Length`` over the limit is refused before a byte of the body is read;
    a chunked body is counted as it comes and refused as soon as it passes the limit. Either
    way the connection is closed after the answer, so the rest is never read.
    """
    limit = gw.settings.max_body_bytes
    declared = request.content_length
    if declared is not None and declared > limit:
        raise Refused(_too_large(limit, x))
    content = request.content
    if content.is_eof():  # the whole body came with the head (most calls): no timer needed
        buf: bytes | bytearray = content.read_nowait()
        if len(buf) > limit:
            raise Refused(_too_large(limit, x))
    else:
        buf = await _arriving(gw, content, limit, x)
    x.refs = b'"file_id"' in buf or b'"skill_id"' in buf
    try:
        body = _decode(buf)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise Refused(
            error_response(400, f"the request body is not a JSON object: {exc}", x.rid)
        ) from None
    bad = _RESERVED.intersection(body)
    if bad:
        raise Refused(error_response(400, f"{min(bad)}: Extra inputs are not permitted", x.rid))
    return body


async def _arriving(gw: Gateway, content: StreamReader, limit: int, x: Exchange) -> bytearray:
    """The rest of a body still arriving, within ``body_timeout_s`` and the size limit."""
    buf = bytearray()
    try:
        async with asyncio.timeout(gw.settings.body_timeout_s):
            while chunk := await content.readany():
                buf += chunk
                if len(buf) > limit:
                    raise Refused(_too_large(limit, x))
    except TimeoutError:
        resp = error_response(
            408,
            "the request body did not arrive in time",
            x.rid,
            error_type="invalid_request_error",
        )
        resp.force_close()
        raise Refused(resp) from None
    return buf


def _too_large(limit: int, x: Exchange) -> web.Response:
    resp = error_response(
        413, f"request body is larger than the gateway's limit of {limit} bytes", x.rid
    )
    resp.force_close()  # never read the rest
    return resp


def options(request: web.Request, x: Exchange) -> dict[str, Any]:
    """Routing options from the request's headers: the pin, the betas, the version."""
    h = request.headers
    opts: dict[str, Any] = {}
    version = h.get("anthropic-version")
    if version is not None:
        if not _VERSION.fullmatch(version):
            raise Refused(
                error_response(
                    400, f"anthropic-version: {version[:40]!r} is not a valid version", x.rid
                )
            )
        # The client's version wins on platforms that take it as a header; a provider that
        # takes it in the body (with its own platform's value) translates it.
        opts["extra_headers"] = {"anthropic-version": version}
    beta = h.get("anthropic-beta")
    if beta:
        opts["betas"] = [b.strip() for b in beta.split(",") if b.strip()]
    pin = h.get("x-clauderoute-provider")
    if pin:
        if pin not in x.gw.provider_names:
            raise Refused(
                error_response(
                    400, f"x-clauderoute-provider: no provider named {pin[:60]!r}", x.rid
                )
            )
        opts["provider"] = pin
    return opts


def _route_headers(
    x: Exchange, route: RouteInfo | None, request_id: str | None, winner_running: bool = False
) -> dict[str, str]:
    out = {"request-id": request_id or x.rid}
    if route is not None:
        x.provider, x.attempts = route.provider, len(route.attempts)
        # Time in attempts and backoff; a stream's winning attempt is still running, so up to
        # its first content only.
        upstream = sum(
            a.backoff_s
            + ((a.ttft_s or 0.0) if winner_running and a.error is None else a.duration_s)
            for a in route.attempts
        )
        x.overhead_ms = max(0.0, (time.perf_counter() - x.t0 - upstream) * 1000)
        out["x-clauderoute-provider"] = route.provider
        out["x-clauderoute-attempts"] = str(len(route.attempts))
        out["x-clauderoute-overhead-ms"] = f"{x.overhead_ms:.3f}"
    return out


def fail(exc: BaseException, x: Exchange) -> web.Response:
    status, etype, message, headers = error_of(exc)
    x.error_type = etype
    attempts = getattr(exc, "attempts", None)
    if attempts:
        x.attempts = len(attempts)
    return error_response(
        status,
        message,
        getattr(exc, "request_id", None) or x.rid,
        error_type=etype,
        headers=headers,
    )


async def find_homes(x: Exchange, bodies: Any, opts: dict[str, Any]) -> str | None:
    """Where the files and skills the Messages requests name live (another worker may have
    made them), so the call goes there; two homes: a 400."""
    if "provider" in opts:
        return None
    try:
        return await x.homes.home_of(bodies)
    except E.ClauderouteError as exc:
        raise Refused(fail(exc, x)) from None


async def messages(gw: Gateway, request: web.Request, x: Exchange) -> web.StreamResponse:
    """``POST /v1/messages``: a whole answer, or (``"stream": true``) SSE."""
    body = await read_body(gw, request, x)
    opts = options(request, x)
    x.model = str(body.get("model", ""))[:200]
    if x.refs:
        await find_homes(x, [body], opts)
    if body.get("stream") is True:
        return await _stream(gw, request, x, body, opts)
    body.pop("stream", None)
    try:
        raw = await x.client.messages.with_raw_response.create(**body, **opts)
    except E.ClauderouteError as exc:
        return fail(exc, x)
    msg = await raw.parse()
    x.count(msg.usage)
    headers = _route_headers(x, raw.route, raw.request_id)
    headers["Content-Type"] = "application/json"  # as a header: no content_type parsing
    return web.Response(body=await raw.read(), headers=headers)


async def _stream(
    gw: Gateway, request: web.Request, x: Exchange, body: dict[str, Any], opts: dict[str, Any]
) -> web.StreamResponse:
    body.pop("stream", None)
    x.stream = True
    try:
        stream = await x.client.messages.stream(**body, **opts).open()
    except E.ClauderouteError as exc:
        return fail(exc, x)  # nothing sent yet: an ordinary error answer
    try:
        resp = web.StreamResponse(headers=_route_headers(x, stream.route, stream.request_id, True))
        resp.content_type = "text/event-stream"
        resp.headers["cache-control"] = "no-cache"
        await resp.prepare(request)
        x.status = 200
        write, told = resp.write, False
        try:
            async for data, events in stream.raw():
                x.events += len(events)
                told = events[-1].type == "error"  # the platform's own error event, forwarded
                await write(data)
        except E.StreamInterruptedError as exc:
            etype, message = stream_error_type(exc)
            x.error_type = etype
            if not told:
                await write(sse_error(etype, message))
        snapshot = stream.current_message_snapshot
        if snapshot is not None:
            x.count(snapshot.usage)
        await resp.write_eof()
        return resp
    finally:
        await stream.aclose()  # on a client disconnect (cancellation) too: frees upstream now


async def count_tokens(gw: Gateway, request: web.Request, x: Exchange) -> web.StreamResponse:
    """``POST /v1/messages/count_tokens``, answered in the Claude API's shape whatever the
    platform's own (Bedrock's ``inputTokens``)."""
    body = await read_body(gw, request, x)
    opts = options(request, x)
    x.model = str(body.get("model", ""))[:200]
    if x.refs:
        await find_homes(x, [body], opts)
    try:
        raw = await x.client.messages.with_raw_response.count_tokens(**body, **opts)
    except E.ClauderouteError as exc:
        return fail(exc, x)
    result = await raw.parse()
    x.input_tokens = result.input_tokens
    return web.Response(
        body=_encode({"input_tokens": result.input_tokens}),
        content_type="application/json",
        headers=_route_headers(x, None, raw.request_id),
    )


async def models(gw: Gateway, request: web.Request, x: Exchange) -> web.StreamResponse:
    """``GET /v1/models`` (``limit``, ``after_id``, ``before_id``)."""
    q = request.query
    try:
        limit = int(q["limit"]) if "limit" in q else None
    except ValueError:
        return error_response(400, "limit: must be an integer", x.rid)
    try:
        page = await x.client.models.list(
            limit=limit,
            after_id=q.get("after_id"),
            before_id=q.get("before_id"),
            provider=request.headers.get("x-clauderoute-provider"),
        )
    except E.ClauderouteError as exc:
        return fail(exc, x)
    return web.Response(
        body=_encode(
            {
                "data": page.data,
                "has_more": bool(page.has_more),
                "first_id": page.first_id,
                "last_id": page.last_id,
            }
        ),
        content_type="application/json",
        headers={"request-id": x.rid},
    )


async def model(gw: Gateway, request: web.Request, x: Exchange) -> web.StreamResponse:
    """``GET /v1/models/{model_id}``."""
    try:
        info = await x.client.models.retrieve(
            request.match_info["model_id"], provider=request.headers.get("x-clauderoute-provider")
        )
    except E.ClauderouteError as exc:
        return fail(exc, x)
    return web.Response(
        body=_encode(info), content_type="application/json", headers={"request-id": x.rid}
    )
