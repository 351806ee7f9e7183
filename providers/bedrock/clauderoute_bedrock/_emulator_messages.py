"""Bedrock's Messages API, emulated: the Claude API's ``/anthropic/v1/messages`` (JSON or SSE)
and ``/anthropic/v1/messages/count_tokens`` with ``anthropic.``-prefixed ids, as both hosts serve
it (bedrock-mantle, and bedrock-runtime under ``/anthropic``; AWS "Inference using Anthropic
Messages API"). Mixed into ``BedrockMantleEmulator`` and ``BedrockEmulator``; betas outside the
endpoint's list get Bedrock's 400 ``invalid beta flag``."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

from aiohttp import web

from clauderoute.provider import COUNT_TOKENS, CREATE, STREAM

__all__ = ["MessagesApiMixin", "messages_api_request"]

_MESSAGES_API: contextvars.ContextVar[bool] = contextvars.ContextVar("bedrock_messages_api",
                                                                     default=False)


def messages_api_request() -> bool:
    """Whether the request being answered came to the Messages API (SSE, not event-stream)."""
    return _MESSAGES_API.get()


class MessagesApiMixin:
    """Handlers for the Messages-API paths; needs the emulator's ``record``, ``answer``,
    ``decode_json``, ``error_response``, ``response_headers`` and ``messages_betas``."""

    #: betas accepted in ``anthropic-beta``; ``None`` accepts any.
    messages_betas: frozenset[str] | None = None
    record: Callable[..., None]
    answer: Callable[..., Any]
    decode_json: Callable[[bytes], dict[str, Any] | None]
    error_response: Callable[..., web.Response]
    check_auth: Callable[[web.Request, bytes], web.StreamResponse | None]
    response_headers: Callable[[], dict[str, str]]

    def messages_routes(self) -> list[web.RouteDef]:
        return [web.post("/anthropic/v1/messages", self._messages_api),
                web.post("/anthropic/v1/messages/count_tokens", self._messages_api_count)]

    def _refuse(self, request: web.Request, body: bytes, params: dict[str, Any] | None
                ) -> web.StreamResponse | None:
        denied = self.check_auth(request, body)  # the front door answers first
        if denied is not None:
            return denied
        if params is None or not isinstance(params.get("model"), str):
            return self.error_response(400, "invalid_request_error", "model: Field required",
                                       self.response_headers())
        sent = [b.strip() for h in request.headers.getall("anthropic-beta", [])
                for b in h.split(",") if b.strip()]
        if self.messages_betas is not None and any(b not in self.messages_betas for b in sent):
            return self.error_response(400, "invalid_request_error", "invalid beta flag",
                                       self.response_headers())
        return None

    async def _messages_api_serve(self, request: web.Request, operation: str
                                  ) -> web.StreamResponse:
        _MESSAGES_API.set(True)  # this request's task only
        body = await request.read()
        params = self.decode_json(body)
        if params is not None and params.get("stream") and operation == CREATE:
            operation = STREAM
        refused = self._refuse(request, body, params)
        if refused is not None:
            self.record(request, body, operation)
            return refused
        assert params is not None
        count = (lambda n: {"input_tokens": n}) if operation == COUNT_TOKENS else None
        resp: web.StreamResponse = await self.answer(
            request, body, operation=operation, params=params, model=params["model"],
            stream=operation == STREAM, count=count)
        return resp

    async def _messages_api(self, request: web.Request) -> web.StreamResponse:
        return await self._messages_api_serve(request, CREATE)

    async def _messages_api_count(self, request: web.Request) -> web.StreamResponse:
        return await self._messages_api_serve(request, COUNT_TOKENS)
