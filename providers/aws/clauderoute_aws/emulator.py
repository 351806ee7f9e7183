"""An emulator of Claude Platform on AWS on loopback: the Claude API emulator (Messages, token
counting, Models, Message Batches, Files, Skills) behind AWS's authentication layer — SigV4 for
the service ``aws-external-anthropic`` verified with botocore, or an API key as a bearer token —
and the ``anthropic-workspace-id`` check.

Rejections are in the Claude API's error shape: the real gateway's own error shape is not
documented (the AWS user guide and the Claude docs show none), so the emulator does not invent
one; the provider also reads an AWS-shaped answer (``x-amzn-ErrorType`` + ``{"message"}``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aiohttp import MultipartReader, StreamReader, web
from clauderoute_anthropic import AnthropicEmulator

from clauderoute.testing import AwsKey, SigV4Verifier

from ._auth import SERVICE

__all__ = ["ACCESS_KEY", "API_KEY", "SECRET_KEY", "WORKSPACE", "AWSEmulator", "AwsKey"]

#: The emulator's default test credentials and workspace (never real ones).
ACCESS_KEY = "AKIAEMULATORAWSPLAT1"
SECRET_KEY = "emulatorAwsPlatformSecret/EXAMPLE+0123456789"
API_KEY = "sk-ant-aws-emulator-key-0123456789abcdef"
WORKSPACE = "wrkspc_01EmulatorWorkspace"
_NEEDS_BODY = web.RequestKey("aws_body_read", bool)


class AWSEmulator(AnthropicEmulator):
    """Claude Platform on AWS: the Claude API's paths at the root (``url`` is the provider's
    and the SDK's ``base_url``), every request authenticated and given a known workspace.

    Args:
        keys: SigV4 credentials accepted: access key id → ``AwsKey(secret, session token)``;
            default ``{ACCESS_KEY: AwsKey(SECRET_KEY)}``.
        api_keys: API keys accepted as ``Authorization: Bearer``; default ``[API_KEY]``.
        workspaces: workspace ids served (``None``: any); default ``[WORKSPACE]``.
        region: the region signatures must be scoped to.
        clock: the emulator's clock (epoch seconds), to test signature expiry.
        **kwargs: see ``AnthropicEmulator`` (``max_body_bytes``) and ``EmulatorServer``.

    .. versionadded:: 0.2
    """

    platform = "aws"

    def __init__(self, *, keys: Mapping[str, AwsKey] | None = None,
                 api_keys: Iterable[str] = (API_KEY,),
                 workspaces: Iterable[str] | None = (WORKSPACE,), region: str = "us-west-2",
                 clock: Callable[[], float] = time.time, **kwargs: Any) -> None:
        super().__init__(api_key=None, **kwargs)
        self.verifier = SigV4Verifier(keys if keys is not None else
                                      {ACCESS_KEY: AwsKey(SECRET_KEY)}, region, SERVICE, clock)
        self.api_keys = set(api_keys)
        self.workspaces = None if workspaces is None else set(workspaces)
        self.region = region

    @property
    def clock(self) -> Callable[[], float]:
        """The clock signatures are checked against."""
        return self.verifier.clock

    @clock.setter
    def clock(self, value: Callable[[], float]) -> None:
        self.verifier.clock = value

    def check_auth(self, request: web.Request, body: bytes) -> web.StreamResponse | None:
        """The credential (API key or SigV4 over ``body``), then the workspace, then the Claude
        API's version check."""
        denied = self._credential(request, body)
        if denied is not None:
            return denied
        workspace = request.headers.get("anthropic-workspace-id")
        if not workspace:  # AWS user guide, "Making requests": a required header
            return self.error_response(400, "invalid_request_error",
                                       "anthropic-workspace-id: header is required",
                                       self.response_headers())
        if self.workspaces is not None and workspace not in self.workspaces:
            return self.error_response(403, "permission_error",
                                       f"workspace {workspace[:40]!r} is not accessible with "
                                       "this credential", self.response_headers())
        if "anthropic-version" not in request.headers:
            return self.error_response(400, "invalid_request_error",
                                       "anthropic-version: header is required",
                                       self.response_headers())
        return None

    def _credential(self, request: web.Request, body: bytes) -> web.Response | None:
        auth = request.headers.get("authorization", "")
        if auth.startswith("Bearer "):
            if auth[7:] in self.api_keys:
                return None
            return self.error_response(401, "authentication_error", "invalid API key",
                                       self.response_headers())
        headers = {k.lower(): ",".join(request.headers.getall(k)) for k in request.headers}
        problem = self.verifier.verify(method=request.method, host=request.host,
                                       raw_path=request.raw_path, headers=headers, body=body)
        if problem is None:
            return None
        name, message = problem
        return self.error_response(401, "authentication_error", f"{name}: {message}",
                                   self.response_headers())

    async def begin(self, request: web.Request, operation: str, beta: str | None = None,
                    body: bytes = b"") -> web.Response | None:
        """As the Claude API emulator's, but a multipart upload is read whole first: its
        signature covers the body's hash (the SDK, too, reads an upload whole to sign it)."""
        if not body and request.content_type.startswith("multipart/"):
            body = await request.read()
            request[_NEEDS_BODY] = True
        return await super().begin(request, operation, beta, body)

    async def form_reader(self, request: web.Request) -> MultipartReader:
        """The upload's parts, from the bytes ``begin`` already read for the signature."""
        if not request.get(_NEEDS_BODY):
            return await super().form_reader(request)
        body = await request.read()  # aiohttp keeps the bytes it read
        stream = StreamReader(request.protocol, limit=max(len(body), 2**16) + 1,
                              loop=asyncio.get_running_loop())
        stream.feed_data(body)
        stream.feed_eof()
        return MultipartReader(request.headers, stream)
