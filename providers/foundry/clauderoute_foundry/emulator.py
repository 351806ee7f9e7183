"""An emulator of Claude in Microsoft Foundry on loopback: the Azure front door (API key and Entra
ID checks, deployment and route checks, Azure-shaped rejections, ``apim-request-id``) in front of
the Claude API (JSON, SSE, Claude-shaped model errors, in-stream errors, every ``Fault``)."""

from __future__ import annotations

import itertools
import secrets
import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any, NamedTuple

import msgspec
from aiohttp import web

from clauderoute.provider import COUNT_TOKENS, CREATE, MB, STREAM
from clauderoute.testing import EmulatorServer

__all__ = ["AccessToken", "EmulatorCredential", "FoundryEmulator"]

_json = msgspec.json.Encoder()

# The Claude API's error types: Foundry's model errors are the Claude API's.
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

# The front door's own rejections, as Azure AI services answer them (anthropics/claude-code#91842
# for the /anthropic path; Azure/azure-sdk-for-net#12814 for PermissionDenied; Azure OpenAI's
# DeploymentNotFound; anomalyco/opencode#14879 for a path Foundry does not serve).
BAD_KEY = ("401", ("Access denied due to invalid subscription key or wrong API endpoint. Make "
                   "sure to provide a valid key for an active subscription and use a correct "
                   "regional API endpoint for your resource."))
BAD_TOKEN = ("401", ("Unauthorized. Access token is missing, invalid, audience is incorrect "
                     "(https://ai.azure.com), or have expired."))
NO_ROLE = ("PermissionDenied", "Principal does not have access to API/Operation.")
NO_DEPLOYMENT = ("DeploymentNotFound", ("The API deployment for this resource does not exist. "
                                        "If you created the deployment within the last 5 "
                                        "minutes, please wait a moment and try again."))
NO_API = ("api_not_supported", "Requested API is currently not supported")


class AccessToken(NamedTuple):
    """An Entra token as azure-core's ``AccessToken``: the token and its expiry (epoch s)."""

    token: str
    expires_on: int


class EmulatorCredential:
    """A ``TokenCredential`` (azure-core's protocol: ``get_token(*scopes)``) minting tokens that
    ``emulator`` accepts until they expire. It counts its calls, for tests of token caching.

    Args:
        emulator: the emulator that will accept the tokens.
        lifetime_s: how long each token is valid.
        delay_s: time each ``get_token`` takes (it blocks, as a real credential's HTTP call does).

    .. versionadded:: 0.1
    """

    def __init__(self, emulator: FoundryEmulator, *, lifetime_s: float = 3600.0,
                 delay_s: float = 0.0) -> None:
        self.emulator = emulator
        self.lifetime_s = lifetime_s
        self.delay_s = delay_s
        self.calls = 0
        self.scopes: list[tuple[str, ...]] = []
        self._mutex = threading.Lock()  # get_token runs on worker threads

    def get_token(self, *scopes: str, claims: str | None = None, tenant_id: str | None = None,
                  enable_cae: bool = False, **kwargs: Any) -> AccessToken:
        """Mint a token for ``scopes`` (after ``delay_s``)."""
        with self._mutex:
            self.calls += 1
            self.scopes.append(scopes)
            n = self.calls
        if self.delay_s:
            time.sleep(self.delay_s)
        token = f"entra-emu-{n}-{secrets.token_hex(12)}"
        expires = int(time.time() + self.lifetime_s)
        self.emulator.accept_token(token, expires)
        return AccessToken(token, expires)

    def __repr__(self) -> str:
        return f"<EmulatorCredential calls={self.calls}>"


class FoundryEmulator(EmulatorServer):
    """Claude in Foundry: ``/anthropic/v1/messages`` (JSON or SSE) and ``.../count_tokens``.

    Args:
        api_key: the resource key accepted in ``api-key`` or ``x-api-key`` (``None``: none).
        tokens: Entra bearer tokens accepted (more come from ``accept_token`` /
            ``EmulatorCredential``).
        forbidden_tokens: bearer tokens that authenticate but lack the data-plane role (403).
        deployments: deployment names served; ``None`` serves any model name.
        max_body_bytes: requests above this get 413 ``request_too_large``.
        **kwargs: see ``EmulatorServer``.

    .. versionadded:: 0.1
    """

    platform = "foundry"
    id_prefix = "msg_"

    def __init__(self, *, api_key: str | None = "test-foundry-key", tokens: Iterable[str] = (),
                 forbidden_tokens: Iterable[str] = (), deployments: Iterable[str] | None = None,
                 max_body_bytes: int = 32 * MB, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_key = api_key
        self._tokens: dict[str, float] = dict.fromkeys(tokens, float("inf"))
        self.forbidden_tokens = set(forbidden_tokens)
        self.deployments = None if deployments is None else set(deployments)
        self.max_body_bytes = max_body_bytes
        self._rids = itertools.count(1)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/anthropic``: the provider's (and the SDK's) ``base_url``."""
        return self.root + "/anthropic"

    def accept_token(self, token: str, expires_on: float = float("inf")) -> None:
        """Accept the bearer ``token`` until ``expires_on`` (epoch seconds)."""
        self._tokens[token] = expires_on

    def revoke_tokens(self) -> None:
        """Reject every bearer token accepted so far (a revoked or rotated credential)."""
        self._tokens.clear()

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/anthropic/v1/messages", self._messages),
                web.post("/anthropic/v1/messages/count_tokens", self._count),
                web.route("*", "/{tail:.*}", self._unknown)]

    def response_headers(self) -> dict[str, str]:
        # Claude docs, "Correlation request IDs": both ids; no anthropic-ratelimit-* headers
        # (Claude docs, "Rate limit headers").
        n = next(self._rids)
        return {"apim-request-id": str(uuid.UUID(int=n)), "request-id": f"req_emu{n:020d}"}

    def default_error_type(self, status: int) -> str:
        return ERROR_TYPES.get(status, "api_error")

    def error_response(self, status: int, error_type: str, message: str,
                       headers: dict[str, str]) -> web.Response:
        body = {"type": "error", "error": {"type": error_type, "message": message},
                "request_id": headers.get("request-id")}
        return web.Response(status=status, body=_json.encode(body),
                            content_type="application/json", headers=headers)

    def front_door_error(self, status: int, error: tuple[str, str]) -> web.Response:
        """A rejection by the Azure front door: Azure's shape, only ``apim-request-id``."""
        headers = {"apim-request-id": self.response_headers()["apim-request-id"]}
        body = {"error": {"code": error[0], "message": error[1]}}
        return web.Response(status=status, body=_json.encode(body),
                            content_type="application/json", headers=headers)

    def check_auth(self, request: web.Request, body: bytes) -> web.StreamResponse | None:
        """The front door: credential, then deployment; then the Claude API's version check."""
        denied = self._check_credential(request)
        if denied is not None:
            return denied
        if self.deployments is not None:
            params = self.decode_json(body) or {}
            if params.get("model") not in self.deployments:
                return self.front_door_error(404, NO_DEPLOYMENT)
        if "anthropic-version" not in request.headers:
            return self.error_response(400, "invalid_request_error",
                                       "anthropic-version: header is required",
                                       self.response_headers())
        return None

    def unknown_model(self, model: str) -> web.StreamResponse:
        """Strict mode: the front door's 404 for a deployment that does not exist."""
        return self.front_door_error(404, NO_DEPLOYMENT)

    def _check_credential(self, request: web.Request) -> web.Response | None:
        # Claude docs, "Authentication": the key in `api-key` or `x-api-key`, or an Entra token
        # as `Authorization: Bearer`.
        key = request.headers.get("api-key") or request.headers.get("x-api-key")
        if key is not None:
            return None if key == self.api_key else self.front_door_error(401, BAD_KEY)
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return self.front_door_error(401, BAD_KEY)
        token = auth[7:]
        if token in self.forbidden_tokens:
            return self.front_door_error(403, NO_ROLE)
        if self._tokens.get(token, 0.0) <= time.time():
            return self.front_door_error(401, BAD_TOKEN)
        return None

    async def _read(self, request: web.Request) -> tuple[bytes, dict[str, Any] | web.Response]:
        body = await request.read()
        denied = self._check_credential(request)  # the front door answers before the model
        if denied is not None:
            return body, denied
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

    async def _unknown(self, request: web.Request) -> web.Response:
        # Foundry serves no Models, Batches or Files API here (Claude docs, "Feature support").
        body = await request.read()
        self.record(request, body, "unknown")
        if request.path.startswith("/anthropic/"):
            return self.front_door_error(404, NO_API)
        return self.front_door_error(404, ("404", "Resource not found"))
