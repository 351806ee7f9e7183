"""An emulator of Claude on Google Vertex AI on loopback: Google's front end (bearer-token check,
project / location / publisher / model routing, Google-shaped rejections) in front of the Claude
API (JSON, SSE, Claude-shaped model errors, in-stream errors, every ``Fault``), plus a small OAuth
token endpoint so google-auth's service-account flow runs offline."""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import Iterable
from typing import Any

import msgspec
from aiohttp import web

from clauderoute.provider import COUNT_TOKENS, CREATE, MB, STREAM
from clauderoute.testing import EmulatorServer, rsa_key_pair

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
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class VertexEmulator(EmulatorServer):
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
        self._tokens: dict[str, float] = dict.fromkeys(tokens, float("inf"))
        self.token_lifetime_s = token_lifetime_s
        self.max_body_bytes = max_body_bytes
        self._keys: dict[str, str] = {}  # service-account email -> public key PEM
        self._key_ids: dict[str, str] = {}  # email -> private_key_id, for the keys made here
        #: Claims of every JWT grant ``/token`` honoured, and the tokens it minted, in order.
        self.grants: list[dict[str, Any]] = []
        self.minted: list[str] = []
        self._rids = itertools.count(1)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: the provider's (and the SDK's) ``base_url``."""
        return self.root + "/v1"

    # --- tokens ---------------------------------------------------------------------------------

    def accept_token(self, token: str, expires_on: float = float("inf")) -> None:
        """Accept the bearer ``token`` until ``expires_on`` (epoch seconds)."""
        self._tokens[token] = expires_on

    def revoke_tokens(self) -> None:
        """Reject every bearer token accepted so far (revoked or expired credentials)."""
        self._tokens.clear()

    def add_service_account(self, email: str, public_key_pem: str) -> None:
        """Honour JWT grants from ``email`` signed by the key whose public half is given."""
        self._keys[email] = public_key_pem
        self._key_ids.pop(email, None)

    def service_account_info(self, email: str = "emulator@test-project.iam.gserviceaccount.com",
                             ) -> dict[str, Any]:
        """A service-account key that this emulator's ``/token`` honours: the JSON content of
        a key file, ``token_uri`` pointing here. Its RSA key is the process's emulator key
        (``clauderoute.testing.rsa_key_pair``), its ``private_key_id`` new: ``/token`` honours
        the grants of this key file only, as Google's checks a grant's key id (the ``kid``
        google-auth signs with), and a later call for the same ``email`` replaces it."""
        private, public = rsa_key_pair()
        self.add_service_account(email, public)
        key_id = self._key_ids[email] = secrets.token_hex(20)
        return {"type": "service_account", "project_id": self.project,
                "private_key_id": key_id, "private_key": private,
                "client_email": email, "client_id": "1" + "0" * 20,
                "token_uri": self.root + "/token"}

    # --- EmulatorServer hooks -------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/v1/projects/{project}/locations/{location}/publishers/{publisher}"
                         "/models/{target}", self._predict),
                web.post("/token", self._token),
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

    def google_error(self, status: int, code: str, message: str,
                     headers: dict[str, str] | None = None) -> web.Response:
        """A rejection by Google's front end: ``{"error": {"code", "message", "status"}}``, no
        Anthropic request id."""
        body = {"error": {"code": status, "message": message, "status": code}}
        return web.Response(status=status, body=_json.encode(body),
                            content_type="application/json", headers=headers)

    def check_auth(self, request: web.Request, body: bytes) -> web.StreamResponse | None:
        """The front end: bearer token, then project, publisher, location and model."""
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        if self._tokens.get(token, 0.0) <= time.time():
            return self.google_error(401, "UNAUTHENTICATED", BAD_TOKEN, {
                "www-authenticate": 'Bearer realm="https://accounts.google.com/"'})
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

    async def _token(self, request: web.Request) -> web.Response:
        """OAuth 2 JWT-bearer grant (RFC 7523), as Google's token endpoint answers it."""
        form = await request.post()
        assertion = str(form.get("assertion", ""))
        if form.get("grant_type") != JWT_GRANT or not assertion:
            return self._oauth_error("unsupported_grant_type", "Invalid grant_type.")
        claims = self._verify(assertion)
        if claims is None:
            return self._oauth_error("invalid_grant", "Invalid JWT Signature.")
        self.grants.append(claims)
        token = f"ya29.emu-{len(self.grants)}-{secrets.token_urlsafe(24)}"
        self.minted.append(token)
        self.accept_token(token, time.time() + self.token_lifetime_s)
        return web.json_response({"access_token": token, "token_type": "Bearer",
                                  "expires_in": int(self.token_lifetime_s)})

    def _verify(self, assertion: str) -> dict[str, Any] | None:
        from google.auth import exceptions, jwt  # lazy: only the token endpoint needs it

        decode: Any = jwt.decode  # google-auth is untyped
        header: Any = jwt.decode_header
        try:
            issuer = decode(assertion, verify=False).get("iss", "")
            if issuer not in self._keys:
                return None
            key_id = self._key_ids.get(issuer)
            if key_id is not None and header(assertion).get("kid") != key_id:
                return None
            # google-auth addresses the grant to Google's endpoint whatever token_uri says.
            claims: dict[str, Any] = decode(assertion, certs=self._keys[issuer], audience=[
                GOOGLE_TOKEN_URI, self.root + "/token"])
        except (ValueError, exceptions.GoogleAuthError):
            return None
        return claims

    @staticmethod
    def _oauth_error(error: str, description: str) -> web.Response:
        return web.Response(status=400, content_type="application/json",
                            text=json.dumps({"error": error, "error_description": description}))

    async def _unknown(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.record(request, body, "unknown")
        return self.google_error(404, "NOT_FOUND", f"Method not found: {request.path}")
