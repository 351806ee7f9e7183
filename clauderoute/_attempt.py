"""One attempt of any call, in one pipeline: prepare (refresh, shape, sign) → send → parse.

Every kind of call runs its attempts through here: Messages create and count_tokens, the
resources' JSON answers (batches, files, skills, models), streamed uploads, and the two streamed
answers (a Messages stream, read on by ``_streaming``; a raw body such as batch results or a
file download). This is the only code that calls a provider's ``prepare``, ``parse`` and
``error_from_response``, and the only code that hands a request to the engine, so every attempt
records its status, headers and timings on its ``AttemptContext`` the same way, for the router,
its observers and hooks alike.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec

from . import _errors as E
from ._engine import StreamResponse
from ._multipart import MultipartBody
from ._provider import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from .routing._observe import AttemptContext

__all__ = ["Decode", "json_attempt", "open_answer", "prepare", "send_message", "stream_attempt"]

#: ``decode(body, provider_name)``: a resource answer's JSON body → its object.
Decode = Callable[[bytes, str], Any]


async def prepare(ctx: AttemptContext) -> HttpRequest:
    """The attempt's request: refreshed auth, shaped and signed by the provider, within the body
    size limit; ``ctx.sent`` is set (every client-side timer starts there)."""
    p = ctx.provider
    try:
        if getattr(p, "prepare_may_block", True):
            start = time.perf_counter()
            async with asyncio.timeout(ctx.timeout):
                request = await p.prepare(ctx.call)
            ctx.prepare_s = time.perf_counter() - start
        else:  # it never suspends: a timer could not fire before it returns
            request = await p.prepare(ctx.call)
    except Exception as exc:  # noqa: BLE001 - mapped by _prepare_error, its cause kept
        raise _prepare_error(p.name, exc)
    return _sent(ctx, request)


def _prepare_error(name: str, exc: Exception) -> Exception:
    """What a failed ``prepare`` raises: our own errors as they are; a timeout as
    ``ConnectTimeout`` (raised ``from None``); anything else as ``ConfigurationError`` caused by
    it. A provider should translate its SDK's errors itself; this is the safety net that keeps
    foreign exceptions (botocore, google-auth…) from escaping clauderoute."""
    if isinstance(exc, E.ClauderouteError):
        return exc
    if isinstance(exc, TimeoutError):
        err: Exception = E.ConnectTimeout("timed out refreshing credentials", platform=name)
        err.__suppress_context__ = True  # (as ``raise ... from None``)
        return err
    err = E.ConfigurationError(
        f"provider {name!r}: could not prepare the request ({type(exc).__name__})"
    )
    err.__cause__ = exc  # (as ``raise ... from exc``)
    return err


def _sent(ctx: AttemptContext, request: HttpRequest) -> HttpRequest:
    """``request`` within the body size limit; ``ctx.sent`` set."""
    limit = ctx.provider.capabilities.body_limit(ctx.call.operation)
    if len(request.body) > limit:
        raise E.RequestTooLarge(len(request.body), limit, what=ctx.call.operation)
    ctx.sent = time.perf_counter()
    return request


def _error(ctx: AttemptContext, response: HttpResponse) -> E.APIStatusError:
    """The provider's error for an error answer, carrying that answer (``e.response``)."""
    err = ctx.provider.error_from_response(response)
    return E.with_response(err, response.status, response.headers, response.body)


def _parse(ctx: AttemptContext, response: HttpResponse, decode: Decode | None) -> Any:
    p = ctx.provider
    try:
        if decode is None:  # a Messages answer: the provider parses it (and its errors)
            return p.parse(ctx.call, response)
        if response.status >= 400:
            raise _error(ctx, response)
        return decode(response.body, p.name)
    except E.APIStatusError as err:  # e.body and e.response, as the SDK's errors have them
        raise E.with_response(err, response.status, response.headers, response.body) from None
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise E.MalformedResponse(
            f"could not decode the {ctx.call.operation} answer: {exc}",
            platform=p.name,
            request_id=response.headers.get(p.request_id_header),
        ) from exc


async def send_message(ctx: AttemptContext) -> Any:
    """The attempt of a Messages create or count_tokens: the provider parses the answer."""
    p = ctx.provider
    if getattr(p, "prepare_may_block", True):
        request = await prepare(ctx)
    else:  # ``prepare`` for a provider that never suspends, inlined: one coroutine less a call
        try:
            request = await p.prepare(ctx.call)
        except Exception as exc:  # noqa: BLE001 - mapped by _prepare_error, its cause kept
            raise _prepare_error(p.name, exc)
        request = _sent(ctx, request)
    response = await ctx.router.engine.send(
        request, timeout=ctx.timeout, platform=ctx.provider.name
    )
    ctx.status, ctx.headers = response.status, response.headers  # the engine's own dict
    return _parse(ctx, response, None)


def json_attempt(
    decode: Decode | None = None,
    upload: MultipartBody | None = None,
    limit: int | None = None,
    answers: dict[int, tuple[HttpResponse, str]] | None = None,
) -> Callable[[AttemptContext], Awaitable[Any]]:
    """An attempt that sends the request and parses a whole answer: with ``decode(body,
    provider_name)`` for a resource, else the provider's ``parse`` (Messages).

    ``upload`` streams as the body (read whole, up to ``limit``, as ``params["content"]`` for a
    provider whose ``signs_body`` is true: SigV4 signs the body's hash, as the official SDK reads
    it whole to sign it). ``answers``, when given, keeps each result's HTTP answer by
    ``id(result)`` (``with_raw_response``)."""
    if upload is None and answers is None and decode is None:
        return send_message
    sent = [0]

    async def attempt(ctx: AttemptContext) -> Any:
        p = ctx.provider
        stream: AsyncIterator[bytes] | None = None
        if upload is not None:
            if sent[0] and not upload.replayable:
                raise E.InvalidRequest(
                    "the upload's file object cannot seek, so it cannot be "
                    "sent again after a failed attempt",
                    field="file",
                )
            sent[0] += 1
            stream = upload.stream(limit)
            if getattr(p, "signs_body", False):
                ctx.call.params["content"] = b"".join([chunk async for chunk in stream])
                stream = None
        request = await prepare(ctx)
        response = await ctx.router.engine.send(
            request, timeout=ctx.timeout, platform=p.name, body=stream
        )
        ctx.status, ctx.headers = response.status, response.headers
        result = _parse(ctx, response, decode)
        if answers is not None:
            answers[id(result)] = (response, p.request_id_header)
        return result

    return attempt


async def open_answer(ctx: AttemptContext, limit: float | None) -> StreamResponse:
    """Send and return once headers arrived, within ``limit`` seconds as a whole; each later
    wait for body bytes is bounded by the attempt's timeout. An error answer raises the
    provider's error (its body already read, at most ``ERROR_BODY_BYTES``)."""
    request = await prepare(ctx)
    p = ctx.provider
    resp = await ctx.router.engine.open(
        request, timeout=limit, read_timeout=ctx.timeout, platform=p.name
    )
    ctx.headers_at = time.perf_counter()
    ctx.status, ctx.headers = resp.status, resp.headers  # built for this answer alone
    if resp.error_body is not None:
        raise _error(ctx, HttpResponse(resp.status, resp.headers, resp.error_body))
    return resp


async def stream_attempt(ctx: AttemptContext) -> StreamResponse:
    """An attempt whose answer body the caller reads and releases (batch results, a file's
    content)."""
    return await open_answer(ctx, ctx.timeout)
