"""An emulator of Bedrock's Messages-API endpoint ("Mantle") on loopback: the Claude API's paths,
bodies, SSE and errors under ``/anthropic`` (``_emulator_messages``), behind AWS's front door
(SigV4 for service ``bedrock-mantle`` verified with botocore, or a Bedrock API key; AWS-shaped
403s)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import msgspec
from aiohttp import web

from clauderoute.testing import AwsKey, EmulatorServer, SigV4Verifier

from ._emulator_messages import MessagesApiMixin
from ._endpoints import beta_lists

__all__ = ["BedrockMantleEmulator"]

_json = msgspec.json.Encoder()
_CLAUDE_TYPES = {400: "invalid_request_error", 401: "authentication_error",
                 403: "permission_error", 404: "not_found_error", 413: "request_too_large",
                 429: "rate_limit_error", 500: "api_error", 529: "overloaded_error"}
_NAMESPACE = ":http://internal.amazon.com/coral/com.amazon.bedrock/"


class BedrockMantleEmulator(MessagesApiMixin, EmulatorServer):
    """Bedrock's Messages-API endpoint: ``/anthropic/v1/messages`` (JSON or SSE) and
    ``/anthropic/v1/messages/count_tokens``; ``url`` is the provider's ``mantle_base_url``.

    Args:
        keys, api_keys, region, clock: as ``BedrockEmulator`` (signatures are checked for the
            service ``bedrock-mantle``).
        betas: ``anthropic-beta`` values accepted (default: ``betas.toml``'s Messages-API
            list); others get Bedrock's ``invalid beta flag``.
        **kwargs: see ``EmulatorServer``.

    .. versionadded:: 0.1
    """

    platform = "bedrock"
    id_prefix = "msg_bdrk_"

    def __init__(self, *, keys: Mapping[str, AwsKey], api_keys: Iterable[str] = (),
                 region: str = "us-east-1", clock: Callable[[], float] = time.time,
                 betas: Iterable[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.verifier = SigV4Verifier(keys, region, "bedrock-mantle", clock)
        self.api_keys = set(api_keys)
        self.messages_betas = frozenset(beta_lists()["messages"] if betas is None else betas)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/anthropic``."""
        return self.root + "/anthropic"

    def routes(self) -> list[web.RouteDef]:
        return self.messages_routes()

    def response_headers(self) -> dict[str, str]:
        return {"x-amzn-RequestId": str(uuid.uuid4())}

    def default_error_type(self, status: int) -> str:
        return _CLAUDE_TYPES.get(status, "api_error")

    def error_response(self, status: int, error_type: str, message: str,
                       headers: dict[str, str]) -> web.Response:
        body = {"type": "error", "error": {"type": error_type, "message": message}}
        return web.Response(status=status, body=_json.encode(body),
                            content_type="application/json", headers=headers)

    def _denied(self, name: str, message: str) -> web.Response:
        headers = dict(self.response_headers(), **{"x-amzn-ErrorType": name + _NAMESPACE})
        return web.Response(status=403, body=_json.encode({"message": message}),
                            content_type="application/json", headers=headers)

    def check_auth(self, request: web.Request, body: bytes) -> web.StreamResponse | None:
        """A Bedrock API key, else SigV4 for ``bedrock-mantle``."""
        auth = request.headers.get("authorization", "")
        if auth.startswith("Bearer "):
            if auth[7:] in self.api_keys:
                return None
            return self._denied("AccessDeniedException", "Authentication failed")
        headers = {k.lower(): ",".join(request.headers.getall(k)) for k in request.headers}
        problem = self.verifier.verify(method=request.method, host=request.host,
                                       raw_path=request.raw_path, headers=headers, body=body)
        return None if problem is None else self._denied(*problem)
