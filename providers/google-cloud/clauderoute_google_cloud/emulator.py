"""An emulator of Claude on Google Cloud on loopback: the Claude API emulator (Messages, token
counting, Models, Message Batches, Files, Skills) under the gateway's workspace root
``/v1/projects/{project}/locations/{location}/workspaces/{workspace_id}/invoke``, behind Google's
front end (bearer-token, project, location and workspace checks, Google-shaped rejections), plus
an OAuth token endpoint (``clauderoute.testing.GoogleTokenEndpoint``) so google-auth's
service-account flow runs offline.

Behind the front end, answers and model errors are the Claude API's (the platform proxies the
first-party API verbatim: the SDK's README for lib/google_cloud). The front end's own rejections
take the shape every googleapis.com service uses, ``{"error": {"code", "message", "status"}}``;
their texts are the emulator's, not documented ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiohttp import web
from clauderoute_anthropic import AnthropicEmulator

from clauderoute.testing import GoogleTokenEndpoint

__all__ = ["PREFIX", "GoogleCloudEmulator"]

#: The routes' prefix: the gateway's workspace root (SDK 2.17 lib/google_cloud/_client.py:34).
PREFIX = "/v1/projects/{project}/locations/{location}/workspaces/{workspace}/invoke"


class GoogleCloudEmulator(GoogleTokenEndpoint, AnthropicEmulator):
    """Claude on Google Cloud: the Claude API under ``PREFIX``, and ``POST /token``.

    Args:
        project: the project whose paths are served; others get 403 ``PERMISSION_DENIED``.
        locations: locations served (``None``: any); others get 404 ``NOT_FOUND``.
        workspaces: workspace ids served (``None``: any); others get 404 ``NOT_FOUND``.
        tokens: bearer tokens accepted (more come from ``accept_token`` and ``/token``).
        token_lifetime_s: ``expires_in`` of tokens minted by ``/token``.
        **kwargs: see ``AnthropicEmulator`` (``max_body_bytes``) and ``EmulatorServer``.

    .. versionadded:: 0.2
    """

    platform = "google-cloud"

    def __init__(self, *, project: str = "test-project",
                 locations: Iterable[str] | None = ("global",),
                 workspaces: Iterable[str] | None = ("wrkspc_01EmulatorWorkspace",),
                 tokens: Iterable[str] = ("test-google-cloud-token",),
                 token_lifetime_s: float = 3600.0, **kwargs: Any) -> None:
        super().__init__(api_key=None, **kwargs)
        self.project = project
        self.locations = None if locations is None else list(locations)
        self.workspaces = None if workspaces is None else list(workspaces)
        self.init_token_endpoint(tokens, token_lifetime_s)

    @property
    def url(self) -> str:
        """The gateway root of the first location and workspace served: the provider's (and
        the SDK's) ``base_url``."""
        location = self.locations[0] if self.locations else "global"
        workspace = self.workspaces[0] if self.workspaces else "wrkspc_any"
        return self.root + PREFIX.format(project=self.project, location=location,
                                         workspace=workspace)

    def service_account_info(self, project: str,
                             email: str = "emulator@test-project.iam.gserviceaccount.com",
                             ) -> dict[str, Any]:
        """A service-account key of ``project`` that this emulator's ``/token`` honours: the
        JSON content of a key file, ``token_uri`` pointing here, its own ``private_key_id``
        (``GoogleTokenEndpoint.service_account_key``)."""
        return self.service_account_key(project, email)

    def routes(self) -> list[web.RouteDef]:
        prefixed = [web.RouteDef(r.method, PREFIX + r.path, r.handler, r.kwargs)
                    for r in super().routes() if isinstance(r, web.RouteDef)]
        return [*prefixed, *self.token_routes(), web.route("*", "/{tail:.*}", self._unknown)]

    def check_auth(self, request: web.Request, body: bytes) -> web.StreamResponse | None:
        """The front end (token, project, location, workspace), then the Claude API's version
        check."""
        refusal = self.token_refusal(request)
        if refusal is not None:
            return refusal
        m = request.match_info
        if m.get("project") != self.project:
            return self.google_error(403, "PERMISSION_DENIED", (
                f"Permission denied on resource project {str(m.get('project'))[:60]}."))
        for what, value, served in (("Location", m.get("location"), self.locations),
                                    ("Workspace", m.get("workspace"), self.workspaces)):
            if served is not None and value not in served:
                return self.google_error(404, "NOT_FOUND",
                                         f"{what} {str(value)[:60]!r} not found.")
        if "anthropic-version" not in request.headers:
            return self.error_response(400, "invalid_request_error",
                                       "anthropic-version: header is required",
                                       self.response_headers())
        return None

    async def _unknown(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.record(request, body, "unknown")
        return self.google_error(404, "NOT_FOUND", f"Method not found: {request.path[:80]}")
