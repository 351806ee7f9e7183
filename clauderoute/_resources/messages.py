"""``client.messages``: create, stream and count_tokens, shaped like the official SDK.

The parameters are typed for type checkers through ``Unpack`` of the request ``TypedDict``s
(``clauderoute.types``); at run time the body is the ``**params`` dict the caller wrote, so the
typed signatures cost nothing per call and unknown fields still pass through.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

from .. import _errors as E
from .._attempt import json_attempt, send_message
from .._operations import needs_of, referenced_ids
from .._provider import COUNT_TOKENS, CREATE, STREAM, Call, HttpResponse
from .._route_rules import check_route
from .._streaming import MessageStream, open_stream_attempt
from .._validate import check_seconds, validate_count_tokens, validate_create
from ..routing._fallback import routed
from ..routing._observe import AttemptContext
from ..types._messages import Message, MessageTokensCount
from ._raw import AsyncRawResponse, AsyncStream
from .batches import Batches

if TYPE_CHECKING:
    from typing import Unpack

    from .._client import AsyncClient
    from ..types._params import MessageCountTokensParams, MessageCreateParamsBase
    from ._kwargs import (
        CountTokensKwargs,
        CreateKwargs,
        CreateMaybeStreamKwargs,
        CreateStreamKwargs,
    )

__all__ = ["Messages", "MessagesWithRawResponse", "StreamManager"]

# Sent as headers, as the official SDK sends them (anthropic/resources/messages/messages.py).
_HEADER_FIELDS = (("user_profile_id", "anthropic-user-profile-id"),
                  ("workspace_id", "anthropic-workspace-id"))


def _headers(params: dict[str, Any], extra: Mapping[str, str] | None,
             defaults: Mapping[str, str]) -> dict[str, str]:
    out = dict(defaults)
    for key, header in _HEADER_FIELDS:
        value = params.pop(key, None)
        if value is not None:
            out[header] = value
    out.update(extra or {})
    return out


def _call(operation: str, params: dict[str, Any], betas: Sequence[str] | None,
          extra_headers: Mapping[str, str] | None, extra_body: Mapping[str, Any] | None,
          client: AsyncClient, plain: bool = False) -> Call:
    if extra_body:  # (which may bring messages of its own: they are read again)
        params.update(extra_body)
        plain = False
    if client.default_headers or "user_profile_id" in params or "workspace_id" in params:
        extra_headers = _headers(params, extra_headers, client.default_headers)
    if betas is not None and (isinstance(betas, str) or
                              not all(isinstance(b, str) for b in betas)):
        raise E.InvalidRequestError("must be a list of beta names", field="betas")
    # A file id or a skill in the request needs a provider that holds files or skills; no beta
    # (Files and Skills are generally available on the Claude API since 2026-08-19).
    return Call(operation=operation, params=params, betas=tuple(betas) if betas else (),
                extra_headers=dict(extra_headers) if extra_headers else {},
                needs=needs_of(params, plain))


def _options(provider: str | None, providers: Sequence[str] | None, timeout: float | None,
             deadline: float | None, extra_query: Mapping[str, Any] | None) -> dict[str, Any]:
    check_seconds(timeout, "timeout")
    check_seconds(deadline, "deadline")
    if extra_query:
        raise E.InvalidRequestError("the Messages endpoints take no query parameters on any "
                                    "platform; use extra_body or extra_headers",
                                    field="extra_query")
    only = [provider] if provider is not None else (
        list(providers) if providers is not None else None)
    return {"timeout": timeout, "deadline_s": deadline, "only": only}


def _homed(call: Call, opts: dict[str, Any], client: AsyncClient) -> dict[str, Any]:
    """``opts``, pinned to the provider that holds the files or skills the request names (an
    uploaded object exists on one platform only). Unknown ids (uploaded elsewhere) leave the
    route as it is; objects on two different providers cannot be served by either."""
    if not call.needs or opts["only"] is not None or not client.object_homes:
        return opts
    homes = {client.object_homes[i] for i in referenced_ids(call.params, call.needs)
             if i in client.object_homes}
    if not homes:
        return opts
    if len(homes) > 1:
        raise E.InvalidRequestError(
            "names uploaded files or skills held on different providers "
            f"({', '.join(sorted(homes))}); one request can use one platform's objects only",
            field="messages")
    return {**opts, "only": list(homes)}


class StreamManager:
    """``async with client.messages.stream(...) as stream`` — opens on enter, closes on exit."""

    def __init__(self, client: AsyncClient, call: Call, opts: dict[str, Any]) -> None:
        self._client = client
        self._call = call
        self._opts = opts
        self._stream: MessageStream | None = None

    async def open(self) -> MessageStream:
        """Open the stream (what ``async with`` does); the caller must close it."""
        opened, route, finisher = await self._client.router.run_stream(
            self._call, open_stream_attempt, **self._opts)
        return MessageStream(opened, route, finisher)

    async def __aenter__(self) -> MessageStream:
        self._stream = await self.open()
        return self._stream

    async def __aexit__(self, *exc: object) -> None:
        if self._stream is not None:
            await self._stream.aclose()


class Messages:
    """The Messages API on whichever provider the route picks."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self.batches = Batches(client)
        #: ``await client.messages.with_raw_response.create(...)``: headers and status too.
        self.with_raw_response = MessagesWithRawResponse(self)

    @overload
    async def create(self, **params: Unpack[CreateKwargs]) -> Message: ...
    @overload
    async def create(self, **params: Unpack[CreateStreamKwargs]) -> AsyncStream: ...
    @overload
    async def create(self, **params: Unpack[CreateMaybeStreamKwargs]
                     ) -> Message | AsyncStream: ...
    async def create(
        self, *, stream: bool = False, provider: str | None = None,
        providers: Sequence[str] | None = None, timeout: float | None = None,
        deadline: float | None = None, extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None, betas: Sequence[str] | None = None,
        fallback_models: Sequence[str] | None = None, conversation: str | None = None,
        **params: Any,
    ) -> Message | AsyncStream:
        """Send a Messages request and return the whole answer (or, with ``stream=True``, the
        raw events as they come).

        Args:
            **params: the request body as the Claude API takes it (``model``, ``max_tokens``,
                ``messages``…; see ``clauderoute.types.MessageCreateParams``), and the
                ``RequestOptions``: ``provider``/``providers`` (where the call may go),
                ``timeout`` (per attempt), ``deadline`` (the whole call), ``betas``,
                ``extra_headers``, ``extra_body`` (fields this version does not type).

        Returns:
            The ``Message``, whose ``.route`` says which provider served it and every attempt;
            with ``stream=True`` an ``AsyncStream`` of events (``async for event in ...``).

        Raises:
            InvalidRequestError: a field is wrong (before any network call).
            APIStatusError: the platform refused (after retries as classified).
            AllPlatformsFailedError: every candidate failed.

        .. versionadded:: 0.1
        .. versionchanged:: 0.2 ``stream=True``; typed parameters.
        """
        opts = _options(provider, providers, timeout, deadline, extra_query) if (
            timeout is not None or deadline is not None or extra_query or provider is not None
            or providers is not None) else _NO_OPTIONS
        if stream is not False:
            if stream is not True:
                raise E.InvalidRequestError("must be a boolean", field="stream")
            if fallback_models is not None or conversation is not None:  # not built yet
                raise E.InvalidRequestError("is not supported with stream=True", field=(
                    "fallback_models" if fallback_models is not None else "conversation"))
            validate_create(params)
            call = _call(STREAM, params, betas, extra_headers, extra_body, self._client)
            opts = _homed(call, opts, self._client)
            check_route(call, self._client.router, opts["only"])
            return AsyncStream(await StreamManager(self._client, call, opts).open())
        plain = validate_create(params)
        call = _call(CREATE, params, betas, extra_headers, extra_body, self._client, plain)
        if call.needs:  # (files or skills named: else _homed has nothing to do)
            opts = _homed(call, opts, self._client)
        router = self._client.router
        check_route(call, router, opts["only"])
        msg: Message
        msg, route = await routed(router, call, send_message, opts, fallback_models, conversation)
        msg.route = route
        return msg

    def stream(self, *, provider: str | None = None, providers: Sequence[str] | None = None,
               timeout: float | None = None, deadline: float | None = None,
               extra_headers: Mapping[str, str] | None = None,
               extra_query: Mapping[str, Any] | None = None,
               extra_body: Mapping[str, Any] | None = None, betas: Sequence[str] | None = None,
               **params: Unpack[MessageCreateParamsBase]) -> StreamManager:
        """Stream a Messages request: ``async with client.messages.stream(...) as s``.

        Takes the same arguments as ``create``. Failures before the first content event fail
        over invisibly; after it they raise ``StreamInterruptedError`` with the partial message.

        .. versionadded:: 0.1
        """
        body: dict[str, Any] = params  # type: ignore[assignment]
        body.pop("stream", None)
        opts = _options(provider, providers, timeout, deadline, extra_query)
        validate_create(body)
        call = _call(STREAM, body, betas, extra_headers, extra_body, self._client)
        opts = _homed(call, opts, self._client)
        check_route(call, self._client.router, opts["only"])
        return StreamManager(self._client, call, opts)

    async def count_tokens(
        self, *, provider: str | None = None, providers: Sequence[str] | None = None,
        timeout: float | None = None, deadline: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None, betas: Sequence[str] | None = None,
        **params: Unpack[MessageCountTokensParams],
    ) -> MessageTokensCount:
        """Count the input tokens of a request without running it.

        .. versionadded:: 0.1
        """
        body: dict[str, Any] = params  # type: ignore[assignment]
        opts = _options(provider, providers, timeout, deadline, extra_query)
        validate_count_tokens(body)
        call = _call(COUNT_TOKENS, body, betas, extra_headers, extra_body, self._client)
        opts = _homed(call, opts, self._client)
        check_route(call, self._client.router, opts["only"])
        result: MessageTokensCount
        result, _route = await self._client.router.run(call, send_message, **opts)
        return result


_NO_OPTIONS: dict[str, Any] = {"timeout": None, "deadline_s": None, "only": None}


class MessagesWithRawResponse:
    """``client.messages.with_raw_response``: the same calls, answered with the HTTP status and
    headers (rate-limit headers included) besides the parsed object (``await r.parse()``).

    .. versionadded:: 0.2
    """

    def __init__(self, messages: Messages) -> None:
        self._messages = messages

    async def _raw(self, run: Callable[[Callable[[AttemptContext], Any]], Coroutine[Any, Any, Any]],
                   ) -> AsyncRawResponse[Any]:
        answers: dict[int, tuple[HttpResponse, str]] = {}
        result = await run(json_attempt(answers=answers))
        response, rid = answers[id(result)]
        return AsyncRawResponse(result, response.status, response.headers, response.body, rid)

    async def create(self, **params: Unpack[CreateKwargs]) -> AsyncRawResponse[Message]:
        """``messages.create(...)`` with the HTTP answer (``stream=True`` is not offered here).

        .. versionadded:: 0.2
        """
        kw: dict[str, Any] = params  # type: ignore[assignment]
        if kw.pop("stream", False) is not False:
            raise E.InvalidRequestError("with_raw_response.create does not stream; use "
                                        "messages.stream()", field="stream")
        client = self._messages._client
        call_opts = _options(**{k: kw.pop(k, None) for k in (
            "provider", "providers", "timeout", "deadline", "extra_query")})
        head = {k: kw.pop(k, None) for k in ("betas", "extra_headers", "extra_body")}
        validate_create(kw)
        call = _call(CREATE, kw, head["betas"], head["extra_headers"], head["extra_body"],
                     client)
        call_opts = _homed(call, call_opts, client)
        check_route(call, client.router, call_opts["only"])

        async def run(fn: Callable[[AttemptContext], Any]) -> Message:
            msg: Message
            msg, route = await client.router.run(call, fn, **call_opts)
            msg.route = route
            return msg
        raw: AsyncRawResponse[Message] = await self._raw(run)
        return raw

    async def count_tokens(self, **params: Unpack[CountTokensKwargs]
                           ) -> AsyncRawResponse[MessageTokensCount]:
        """``messages.count_tokens(...)`` with the HTTP answer.

        .. versionadded:: 0.2
        """
        kw: dict[str, Any] = params  # type: ignore[assignment]
        client = self._messages._client
        call_opts = _options(**{k: kw.pop(k, None) for k in (
            "provider", "providers", "timeout", "deadline", "extra_query")})
        head = {k: kw.pop(k, None) for k in ("betas", "extra_headers", "extra_body")}
        validate_count_tokens(kw)
        call = _call(COUNT_TOKENS, kw, head["betas"], head["extra_headers"],
                     head["extra_body"], client)
        call_opts = _homed(call, call_opts, client)
        check_route(call, client.router, call_opts["only"])

        async def run(fn: Callable[[AttemptContext], Any]) -> MessageTokensCount:
            result: MessageTokensCount
            result, _route = await client.router.run(call, fn, **call_opts)
            return result
        raw: AsyncRawResponse[MessageTokensCount] = await self._raw(run)
        return raw
