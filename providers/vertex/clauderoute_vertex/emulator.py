"""An emulator of Claude on Google Vertex AI on loopback: Google's front end (bearer-token check,
project / location / publisher / model routing, Google-shaped rejections) in front of the Claude
API (JSON, SSE, Claude-shaped model errors, in-stream errors, every ``Fault``), plus a small OAuth
token endpoint so google-auth's service-account flow runs offline."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import msgspec
from aiohttp import web

from clauderoute.provider import COUNT_TOKENS, CREATE, MB, STREAM
from clauderoute.testing import EmulatorServer, GoogleTokenEndpoint

__all__ = ["VertexEmulator"]

_json = msgspec.json.Encoder()

# Vertex AI: the front end's failures carry Google's status names; model
# errors behind it keep the Claude API's types.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    413: "request_too_large",
    429: "RESOURCE_EXHAUSTED",
    500: "api_error",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
    529: "overloaded_error",
}

# The front end's own texts, as Google APIs word them.
BAD_TOKEN = ("Request had invalid authentication credentials. Expected OAuth 2 access token, "
             "login cookie or other valid authentication credential. See "
             "https://developers.google.com/identity/sign-in/web/devconsole-project.")
DENIED = ("Permission 'aiplatform.endpoints.predict' denied on resource "
          "'//aiplatform.googleapis.com/{name}' (or it may not exist).")
NO_MODEL = "Publisher Model `{name}` not found."


class VertexEmulator(GoogleTokenEndpoint, EmulatorServer):
    """Claude on Vertex: ``POST /v1/projects/{project}/locations/{location}/publishers/anthropic/
    models/{model}:rawPredict`` (JSON), ``:streamRawPredict`` (SSE) and
    ``.../models/count-tokens:rawPredict``; and ``POST /token`` (OAuth JWT-bearer grant).

    Args:
        project: the project whose paths are served; others get 403 ``PERMISSION_DENIED``.
        locations: locations served (``None``: any); others get 404 ``NOT_FOUND``.
        models: model ids served (``None``: any); others get 404 ``NOT_FOUND``.
        tokens: bearer tokens accepted (more come from ``accept_token`` and ``/token``).
        token_lifetime_s: ``expires_in`` of tokens minted by ``/token``.
        max_body_bytes: requests above this get 413 ``request_too_large``.
        **kwargs: see ``EmulatorServer``.

    .. versionadded:: 0.1
    """

    platform = "vertex"
    id_prefix = "msg_vrtx_"  # Vertex AI's message ids look like msg_vrtx_…

    def __init__(self, *, project: str = "test-project", locations: Iterable[str] | None = None,
                 models: Iterable[str] | None = None,
                 tokens: Iterable[str] = ("test-vertex-token",),
                 token_lifetime_s: float = 3600.0, max_body_bytes: int = 32 * MB,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.project = project
        self.locations = None if locations is None else set(locations)
        self.models = None if models is None else set(models)
        self.init_token_endpoint(tokens, token_lifetime_s)
        self.max_body_bytes = max_body_bytes
        self._rids = itertools.count(1)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: the provider's (and the SDK's) ``base_url``."""
        return self.root + "/v1"

    # --- tokens: GoogleTokenEndpoint's (accept_token, revoke_tokens, add_service_account) -----

    def service_account_info(self, email: str = "emulator@test-project.iam.gserviceaccount.com",
                             ) -> dict[str, Any]:
        """A service-account key of this emulator's ``project`` that its ``/token`` honours: the
        JSON content of a key file, ``token_uri`` pointing here, its own ``private_key_id``
        (``GoogleTokenEndpoint.service_account_key``)."""
        return self.service_account_key(self.project, email)

    # --- EmulatorServer hooks -------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/v1/projects/{project}/locations/{location}/publishers/{publisher}"
                         "/models/{target}", self._predict),
                *self.token_routes(),
                web.route("*", "/{tail:.*}", self._unknown)]

    def response_headers(self) -> dict[str, str]:
        # The Claude API's request id passes through Vertex, prefixed req_vrtx_.
        return {"request-id": f"req_vrtx_{next(self._rids):024d}"}

    def default_error_type(self, status: int) -> str:
        return ERROR_TYPES.get(status, "api_error")

    def error_response(self, status: int, error_type: str, message: str,
                       headers: dict[str, str]) -> web.Response:
        if error_type.isupper():  # a Google status name: the front end's own answer
            return self.google_error(status, error_type, message)
        body = {"type": "error", "error": {"type": error_type, "message": message},
                "request_id": headers.get("request-id")}
        return web.Response(status=status, body=_json.encode(body),
                            content_type="application/json", headers=headers)

    def check_auth(self, request: web.Request, body: bytes) -> web.StreamResponse | None:
        """The front end: bearer token, then project, publisher, location and model."""
        refusal = self.token_refusal(request, BAD_TOKEN)
        if refusal is not None:
            return refusal
        m = request.match_info
        name = (f"projects/{m['project']}/locations/{m['location']}/publishers/"
                f"{m['publisher']}/models/{m['target'].rpartition(':')[0]}")
        if m["project"] != self.project:
            return self.google_error(403, "PERMISSION_DENIED", DENIED.format(name=name))
        model, _, verb = m["target"].rpartition(":")
        known = model == "count-tokens" or self.models is None or model in self.models
        if (m["publisher"] != "anthropic" or verb not in ("rawPredict", "streamRawPredict")
                or not known
                or (self.locations is not None and m["location"] not in self.locations)):
            return self.google_error(404, "NOT_FOUND", NO_MODEL.format(name=name))
        return None

    def unknown_model(self, model: str) -> web.StreamResponse:
        """Strict mode: Google's 404 for a publisher model that does not exist."""
        name = f"projects/{self.project}/publishers/anthropic/models/{model[:200]}"
        return self.google_error(404, "NOT_FOUND", NO_MODEL.format(name=name))

    # --- handlers -------------------------------------------------------------------------------

    async def _predict(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        model, _, verb = request.match_info["target"].rpartition(":")
        count = model == "count-tokens"
        params = self._params(request, body, count)
        if isinstance(params, web.StreamResponse):
            self.record(request, body, COUNT_TOKENS if count else
                        STREAM if verb == "streamRawPredict" else CREATE)
            return params
        if count:
            return await self.answer(request, body, operation=COUNT_TOKENS, params=params,
                                     model=params["model"], stream=False,
                                     count=lambda n: {"input_tokens": n})
        stream = bool(params.get("stream"))
        return await self.answer(request, body, operation=STREAM if stream else CREATE,
                                 params=params, model=model, stream=stream)

    def _params(self, request: web.Request, body: bytes,
                count: bool) -> dict[str, Any] | web.StreamResponse:
        """The body's JSON, or the answer refusing it (the front end answers first)."""
        denied = self.check_auth(request, body)
        if denied is not None:
            return denied
        if len(body) > self.max_body_bytes:
            return self.error_response(413, "request_too_large",
                                       "Request exceeds the maximum allowed number of bytes. "
                                       "The maximum request size is 32 MB.",
                                       self.response_headers())
        params = self.decode_json(body)
        if params is None:
            problem = "body: Input should be a valid JSON object"
        elif "anthropic_version" not in params:  # Claude docs: required in the body on Vertex
            problem = "anthropic_version: Field required"
        elif count and not isinstance(params.get("model"), str):
            problem = "model: Field required"
        else:
            return params
        return self.error_response(400, "invalid_request_error", problem,
                                   self.response_headers())

    async def _unknown(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.record(request, body, "unknown")
        return self.google_error(404, "NOT_FOUND", f"Method not found: {request.path}")
