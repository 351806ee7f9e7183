"""``client.messages``: create, stream and count_tokens, shaped like the official SDK."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._errors import InvalidRequest
from .._operations import FILE_REFERENCE, FILES_BETA, SKILL_REFERENCE, SKILLS_BETA, needs_of
from .._provider import COUNT_TOKENS, CREATE, STREAM, Call, HttpResponse
from .._streaming import MessageStream, open_stream_attempt
from .._validate import check_seconds, validate_count_tokens, validate_create
from ..routing._observe import AttemptContext
from ..types._messages import Message, MessageTokensCount
from .batches import Batches

if TYPE_CHECKING:
    from .._client import AsyncClient

__all__ = ["Messages", "StreamManager"]


def _call(operation: str, params: dict[str, Any], betas: Sequence[str] | None,
          extra_headers: Mapping[str, str] | None, extra_body: Mapping[str, Any] | None) -> Call:
    if extra_body:
        params.update(extra_body)
    if betas is not None and (isinstance(betas, str) or
                              not all(isinstance(b, str) for b in betas)):
        raise InvalidRequest("must be a list of beta names", field="betas")
    needs = needs_of(params)
    if not needs:  # the usual call: no beta to add
        return Call(operation=operation, params=params, betas=tuple(betas) if betas else (),
                    extra_headers=dict(extra_headers) if extra_headers else {}, needs=needs)
    # A file id or a skill in the request needs its API's beta, as the endpoints do.
    extra = [b for n, b in ((FILE_REFERENCE, FILES_BETA), (SKILL_REFERENCE, SKILLS_BETA))
             if n in needs and b not in (betas or ())]
    return Call(operation=operation, params=params, betas=(*(betas or ()), *extra),
                extra_headers=dict(extra_headers or {}), needs=needs)


def _check_limits(timeout: float | None, deadline: float | None) -> None:
    check_seconds(timeout, "timeout")
    check_seconds(deadline, "deadline")


def _only(provider: str | None, providers: Sequence[str] | None) -> Sequence[str] | None:
    if provider is not None:
        return [provider]
    return list(providers) if providers is not None else None


async def _send(ctx: AttemptContext) -> Any:
    request = await ctx.prepare()
    p = ctx.provider
    response: HttpResponse = await ctx.router.engine.send(request, timeout=ctx.timeout,
                                                          platform=p.name)
    ctx.status, ctx.headers = response.status, response.headers  # the engine's own dict
    return p.parse(ctx.call, response)


class StreamManager:
    """``async with client.messages.stream(...) as stream`` — opens on enter, closes on exit."""

    def __init__(self, client: AsyncClient, call: Call, opts: dict[str, Any]) -> None:
        self._client = client
        self._call = call
        self._opts = opts
        self._stream: MessageStream | None = None

    async def __aenter__(self) -> MessageStream:
        opened, route, finisher = await self._client.router.run_stream(
            self._call, open_stream_attempt, **self._opts)
        self._stream = MessageStream(opened, route, finisher)
        return self._stream

    async def __aexit__(self, *exc: object) -> None:
        if self._stream is not None:
            await self._stream.aclose()


class Messages:
    """The Messages API on whichever provider the route picks."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self.batches = Batches(client)

    async def create(
        self,
        *,
        provider: str | None = None,
        providers: Sequence[str] | None = None,
        timeout: float | None = None,
        deadline: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        betas: Sequence[str] | None = None,
        **params: Any,
    ) -> Message:
        """Send a Messages request and return the whole answer.

        Args:
            provider: serve this call on this configured provider only.
            providers: the providers allowed for this call, in order.
            timeout: per-attempt timeout, seconds.
            deadline: budget for the whole call including retries and failover, seconds.
            extra_headers: headers added to the platform request.
            extra_body: fields merged into the body.
            betas: beta features (``anthropic-beta``, or the platform's way).
            **params: the request body as the Claude API takes it (``model``, ``max_tokens``,
                ``messages``…); unknown fields pass through.

        Returns:
            The ``Message``; ``.route`` says which provider served it and every attempt.

        Raises:
            InvalidRequest: a field is wrong (before any network call).
            APIStatusError: the platform refused (after retries as classified).
            AllPlatformsFailed: every candidate failed.

        .. versionadded:: 0.1
        """
        if params.get("stream"):
            raise InvalidRequest("use client.messages.stream() for streaming", field="stream")
        validate_create(params)
        if timeout is not None or deadline is not None:
            _check_limits(timeout, deadline)
        call = _call(CREATE, params, betas, extra_headers, extra_body)
        msg, route = await self._client.router.run(call, _send, timeout=timeout,
                                                   deadline_s=deadline,
                                                   only=_only(provider, providers))
        msg.__dict__["_route"] = route
        return msg  # type: ignore[no-any-return]

    def stream(
        self,
        *,
        provider: str | None = None,
        providers: Sequence[str] | None = None,
        timeout: float | None = None,
        deadline: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        betas: Sequence[str] | None = None,
        **params: Any,
    ) -> StreamManager:
        """Stream a Messages request: ``async with client.messages.stream(...) as s``.

        Takes the same arguments as ``create``. Failures before the first content event fail
        over invisibly; after it they raise ``StreamInterrupted`` with the partial message.

        .. versionadded:: 0.1
        """
        params.pop("stream", None)
        validate_create(params)
        if timeout is not None or deadline is not None:
            _check_limits(timeout, deadline)
        call = _call(STREAM, params, betas, extra_headers, extra_body)
        return StreamManager(self._client, call, {"timeout": timeout, "deadline_s": deadline,
                                                  "only": _only(provider, providers)})

    async def count_tokens(
        self,
        *,
        provider: str | None = None,
        providers: Sequence[str] | None = None,
        timeout: float | None = None,
        deadline: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        betas: Sequence[str] | None = None,
        **params: Any,
    ) -> MessageTokensCount:
        """Count the input tokens of a request without running it.

        .. versionadded:: 0.1
        """
        validate_count_tokens(params)
        if timeout is not None or deadline is not None:
            _check_limits(timeout, deadline)
        call = _call(COUNT_TOKENS, params, betas, extra_headers, extra_body)
        result, _route = await self._client.router.run(call, _send, timeout=timeout,
                                                       deadline_s=deadline,
                                                       only=_only(provider, providers))
        return result  # type: ignore[no-any-return]
