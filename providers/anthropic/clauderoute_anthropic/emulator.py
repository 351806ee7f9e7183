"""An emulator of the Claude API on loopback: real paths, auth, error shapes and headers."""

from __future__ import annotations

import itertools
from typing import Any

import msgspec
from aiohttp import web

from clauderoute.provider import COUNT_TOKENS, CREATE, MB, STREAM
from clauderoute.testing import EmulatorServer

from ._emulator_batches import BatchesMixin
from ._emulator_files import FilesMixin

__all__ = ["AnthropicEmulator"]

_json = msgspec.json.Encoder()

# The Claude API's error type per HTTP status (Claude docs, "Errors").
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


class AnthropicEmulator(BatchesMixin, FilesMixin, EmulatorServer):
    """The Claude API: ``/v1/messages`` (JSON or SSE) and ``/v1/messages/count_tokens``, and in
    memory the Models, Message Batches, Files and Skills APIs (``models``, ``batches``,
    ``files``, ``skills`` hold their state; see ``_emulator_batches`` and ``_emulator_files``).

    Args:
        api_key: the key accepted in ``x-api-key`` (or as a bearer token, as SDK 2.x sends it).
        auth_token: a bearer token accepted in ``Authorization``.
        max_body_bytes: requests above this get 413 ``request_too_large`` (32 MB as the API).
        **kwargs: see ``EmulatorServer``.
    """

    platform = "anthropic"
    id_prefix = "msg_"

    def __init__(self, *, api_key: str | None = "test-anthropic-key",
                 auth_token: str | None = None, max_body_bytes: int = 32 * MB,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._keys = {k for k in (api_key, auth_token) if k}
        self.max_body_bytes = max_body_bytes
        self._rids = itertools.count(1)
        self.init_batches()
        self.init_files()

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/v1/messages", self._messages),
                web.post("/v1/messages/count_tokens", self._count),
                *self.batch_routes(), *self.file_routes()]

    def response_headers(self) -> dict[str, str]:
        return {
            "request-id": f"req_emu{next(self._rids):020d}",
            "anthropic-ratelimit-requests-limit": "4000",
            "anthropic-ratelimit-requests-remaining": "3999",
            "anthropic-ratelimit-tokens-limit": "400000",
            "anthropic-ratelimit-tokens-remaining": "399000",
        }

    def default_error_type(self, status: int) -> str:
        return ERROR_TYPES.get(status, "api_error")

    def error_response(self, status: int, error_type: str, message: str,
                       headers: dict[str, str]) -> web.Response:
        body = {"type": "error", "error": {"type": error_type, "message": message},
                "request_id": headers.get("request-id")}
        return web.Response(status=status, body=_json.encode(body),
                            content_type="application/json", headers=headers)

    def check_auth(self, request: web.Request, body: bytes) -> web.StreamResponse | None:
        key = request.headers.get("x-api-key")
        if key is None:
            auth = request.headers.get("authorization", "")
            key = auth[7:] if auth.startswith("Bearer ") else None
        if key is None or key not in self._keys:
            return self.error_response(401, "authentication_error", "invalid x-api-key",
                                       self.response_headers())
        if "anthropic-version" not in request.headers:
            return self.error_response(400, "invalid_request_error",
                                       "anthropic-version: header is required",
                                       self.response_headers())
        return None

    async def _read(self, request: web.Request) -> tuple[bytes, dict[str, Any] | web.Response]:
        body = await request.read()
        if len(body) > self.max_body_bytes:
            return body, self.error_response(413, "request_too_large",
                                             "Request exceeds the maximum allowed number of bytes.",
                                             self.response_headers())
        params = self.decode_json(body)
        if params is None or not isinstance(params.get("model"), str):
            return body, self.error_response(400, "invalid_request_error",
                                             "model: Field required", self.response_headers())
        return body, params

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body, params = await self._read(request)
        if isinstance(params, web.Response):
            self.record(request, body, CREATE)
            return params
        stream = bool(params.get("stream"))
        return await self.answer(request, body, operation=STREAM if stream else CREATE,
                                 params=params, model=params["model"], stream=stream)

    async def _count(self, request: web.Request) -> web.StreamResponse:
        body, params = await self._read(request)
        if isinstance(params, web.Response):
            self.record(request, body, COUNT_TOKENS)
            return params
        return await self.answer(request, body, operation=COUNT_TOKENS, params=params,
                                 model=params["model"], stream=False,
                                 count=lambda n: {"input_tokens": n})
