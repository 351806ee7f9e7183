"""An emulator of Amazon Bedrock's runtime on loopback: InvokeModel, InvokeModelWithResponseStream
(real AWS event-stream framing with CRCs) and CountTokens, with SigV4 signatures verified by
botocore against known test credentials, Bedrock API keys, Bedrock's error shapes and every
``Fault`` of the foundation emulator (mid-stream faults as exception frames); and the same
host's Messages API under ``/anthropic`` (``_emulator_messages``: Claude API bodies and SSE)."""

from __future__ import annotations

import base64
import contextvars
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import msgspec
from aiohttp import web

from clauderoute.provider import COUNT_TOKENS, CREATE, EVENT_ERROR_STATUS, MB, STREAM
from clauderoute.testing import AwsKey, EmulatorServer, SigV4Verifier

from ._emulator_control import ControlPlaneMixin
from ._emulator_messages import MessagesApiMixin, messages_api_request
from ._endpoints import PROFILES, beta_lists
from ._errors import ERRORS
from ._frames import encode_frame

__all__ = ["ACCESS_KEY", "API_KEY", "SECRET_KEY", "AwsKey", "BedrockEmulator"]

_json = msgspec.json.Encoder()

#: The emulator's default test credentials (never real ones).
ACCESS_KEY = "AKIAEMULATOREXAMPLE7"
SECRET_KEY = "emulatorSecretKey/EXAMPLE+0123456789abcdef"
API_KEY = "ABSKemulator-bedrock-api-key-0123456789"

_STATUS_NAMES = {400: "ValidationException", 403: "AccessDeniedException",
                 404: "ResourceNotFoundException", 408: "ModelTimeoutException",
                 424: "ModelErrorException", 429: "ThrottlingException",
                 500: "InternalServerException", 503: "ServiceUnavailableException"}
_NAMESPACE = ":http://internal.amazon.com/coral/com.amazon.bedrock/"
_EVENTSTREAM = "application/vnd.amazon.eventstream"
_CHECKED = web.RequestKey("bedrock_auth_checked", bool)
_BAD_API_KEY = ("AccessDeniedException",
                "Authentication failed: Please make sure your API Key is valid.")


class _Invocation:
    """What one request's answer has shown so far, for its invocation metrics."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.first_byte: int | None = None
        self.input_tokens = self.output_tokens = 0

    def elapsed_ms(self) -> int:
        return round((time.perf_counter() - self.start) * 1000)

    def event(self, event: dict[str, Any]) -> None:
        if self.first_byte is None:
            self.first_byte = self.elapsed_ms()
        usage = event.get("usage") or (event.get("message") or {}).get("usage") or {}
        self.input_tokens = usage.get("input_tokens") or self.input_tokens
        self.output_tokens = usage.get("output_tokens") or self.output_tokens

    def metrics(self) -> dict[str, int]:
        return {"inputTokenCount": self.input_tokens, "outputTokenCount": self.output_tokens,
                "invocationLatency": self.elapsed_ms(), "firstByteLatency": self.first_byte or 0}


_INVOCATION: contextvars.ContextVar[_Invocation] = contextvars.ContextVar("bedrock_invocation")


def _camel(name: str) -> str:
    # ThrottlingException -> throttlingException (ResponseStream member names).
    return name[:1].lower() + name[1:]


class BedrockEmulator(ControlPlaneMixin, MessagesApiMixin, EmulatorServer):
    """Amazon Bedrock runtime: ``/model/{modelId}/invoke``, ``/invoke-with-response-stream``,
    ``/count-tokens``, and ``/anthropic/v1/messages[/count_tokens]``; and the control plane's
    ListFoundationModels and ListInferenceProfiles (``_emulator_control``), which boto3's
    ``bedrock`` client reads when pointed at ``url``.

    Args:
        keys: SigV4 credentials accepted: access key id → ``AwsKey(secret, session token)``;
            default ``{ACCESS_KEY: AwsKey(SECRET_KEY)}``.
        api_keys: Bedrock API keys accepted as ``Authorization: Bearer``; default ``[API_KEY]``.
        region: the region signatures must be scoped to.
        models: model ids served (base ids, profile ids, ARNs); ``None`` serves any.
        betas: beta names accepted (``anthropic_beta`` on InvokeModel, ``anthropic-beta`` on
            the Messages API); others get Bedrock's ``invalid beta flag``. Default: each
            endpoint's list in ``betas.toml``.
        clock: the emulator's clock (epoch seconds), to test signature expiry.
        max_body_bytes: bodies above this get a ValidationException.
        **kwargs: see ``EmulatorServer``.

    .. versionadded:: 0.1
    """

    platform = "bedrock"
    id_prefix = "msg_bdrk_"

    def __init__(self, *, keys: Mapping[str, AwsKey] | None = None,
                 api_keys: Iterable[str] = (API_KEY,), region: str = "us-east-1",
                 models: Iterable[str] | None = None, betas: Iterable[str] | None = None,
                 clock: Callable[[], float] = time.time, max_body_bytes: int = 32 * MB,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.verifier = SigV4Verifier(keys if keys is not None else
                                      {ACCESS_KEY: AwsKey(SECRET_KEY)}, region, "bedrock", clock)
        self.api_keys = set(api_keys)
        self.region = region
        self.models = None if models is None else set(models)
        self.betas = frozenset(beta_lists()["invoke"] if betas is None else betas)
        self.messages_betas = frozenset(beta_lists()["messages"] if betas is None else betas)
        self.max_body_bytes = max_body_bytes
        self.init_control()

    @property
    def clock(self) -> Callable[[], float]:
        """The clock signatures are checked against."""
        return self.verifier.clock

    @clock.setter
    def clock(self, value: Callable[[], float]) -> None:
        self.verifier.clock = value

    def routes(self) -> list[web.RouteDef]:
        # `{model:.+}`: an ARN's encoded `/` may arrive decoded in the matched path.
        return [*self.messages_routes(), *self.control_routes(),
                web.post("/model/{model:.+}/invoke", self._invoke),
                web.post("/model/{model:.+}/invoke-with-response-stream", self._stream_route),
                web.post("/model/{model:.+}/count-tokens", self._count),
                web.route("*", "/{tail:.*}", self._unknown)]

    # --- Bedrock's shapes -------------------------------------------------------------------------

    def response_headers(self) -> dict[str, str]:
        return {"x-amzn-RequestId": str(uuid.uuid4())}

    def default_error_type(self, status: int) -> str:
        return _STATUS_NAMES.get(status) or (
            "ServiceUnavailableException" if status >= 500 else "ValidationException")

    def error_response(self, status: int, error_type: str, message: str,
                       headers: dict[str, str]) -> web.Response:
        # AWS rest-json: the name in x-amzn-ErrorType, {"message"} in the body.
        headers = dict(headers, **{"x-amzn-ErrorType": error_type + _NAMESPACE})
        return web.Response(status=status, body=_json.encode({"message": message}),
                            content_type="application/json", headers=headers)

    def bedrock_error(self, name: str, message: str, status: int | None = None) -> web.Response:
        """A Bedrock error by exception name (status from the service model)."""
        code = status or ERRORS.get(name, (400, None))[0]
        return self.error_response(code, name, message, self.response_headers())

    @property
    def stream_content_type(self) -> str:  # type: ignore[override]
        """Event-stream on InvokeModel; SSE on the Messages API."""
        return "text/event-stream" if messages_api_request() else _EVENTSTREAM

    def frame(self, event: dict[str, Any]) -> bytes:
        """A ``chunk`` event frame carrying one Claude event (``{"bytes": base64}``); the last
        one (``message_stop``) carries ``amazon-bedrock-invocationMetrics``, as Bedrock's does.
        (An SSE event on the Messages API, its ``message_stop`` with the same metrics.)"""
        seen = _INVOCATION.get(None) or _Invocation()  # a frame made outside a request: zeros
        seen.event(event)
        if event.get("type") == "message_stop":
            event = dict(event, **{"amazon-bedrock-invocationMetrics": seen.metrics()})
        if messages_api_request():
            return super().frame(event)
        data = base64.b64encode(_json.encode(event)).decode()
        payload = _json.encode({"bytes": data, "p": "abcdefghijklmnop"[: len(data) % 16]})
        return encode_frame({":event-type": "chunk", ":content-type": "application/json",
                             ":message-type": "event"}, payload)

    def exception_frame(self, name: str, body: dict[str, Any]) -> bytes:
        """An ``exception`` frame (``:exception-type`` in lowerCamelCase)."""
        return encode_frame({":exception-type": _camel(name), ":content-type": "application/json",
                             ":message-type": "exception"}, _json.encode(body))

    def error_frame(self, error_type: str, message: str) -> bytes:
        """A Bedrock exception name → its exception frame; a Claude error type (the model's own
        error, e.g. ``overloaded_error``) → ``modelStreamErrorException`` carrying the model's
        status and error body."""
        if messages_api_request():
            return super().error_frame(error_type, message)
        name = error_type[:1].upper() + error_type[1:]
        if name in ERRORS:
            return self.exception_frame(name, {"message": message})
        original = {"type": "error", "error": {"type": error_type, "message": message}}
        return self.exception_frame("ModelStreamErrorException", {
            "message": "The model returned an error while streaming.",
            "originalStatusCode": EVENT_ERROR_STATUS.get(error_type, 500),
            "originalMessage": _json.encode(original).decode()})

    def malformed_frame(self) -> bytes:
        """A frame whose message CRC does not match (a cut SSE event on the Messages API)."""
        if messages_api_request():
            return super().malformed_frame()
        good = self.frame({"type": "ping"})
        return good[:-4] + bytes(b ^ 0xFF for b in good[-4:])

    # --- checks -----------------------------------------------------------------------------------

    def check_auth(self, request: web.Request, body: bytes) -> web.StreamResponse | None:
        """A Bedrock API key, else a SigV4 signature verified with botocore."""
        if request.get(_CHECKED):  # answer() asks again after _read() did
            return None
        request[_CHECKED] = True
        auth = request.headers.get("authorization", "")
        if auth.startswith("Bearer "):
            return None if auth[7:] in self.api_keys else self.bedrock_error(*_BAD_API_KEY)
        headers = {k.lower(): ",".join(request.headers.getall(k)) for k in request.headers}
        problem = self.verifier.verify(method=request.method, host=request.host,
                                       raw_path=request.raw_path, headers=headers, body=body)
        return None if problem is None else self.bedrock_error(*problem, status=403)

    def model_known(self, model: str) -> bool:
        """Strict mode: a catalog id, also behind a cross-region profile prefix or as the last
        part of an ARN."""
        if model.startswith("arn:"):
            model = model.rpartition("/")[2]
        for prefix in PROFILES:
            if model.startswith(prefix):
                model = model[len(prefix):]
                break
        return super().model_known(model)

    def unknown_model(self, model: str) -> web.StreamResponse:
        """Strict mode: InvokeModel's ValidationException for an id it does not know (the
        Messages API: a 404 ``ResourceNotFoundException``)."""
        if messages_api_request():
            return super().unknown_model(model)
        return self.bedrock_error("ValidationException",
                                  "The provided model identifier is invalid.")

    def _validate(self, model: str, body: bytes, *, nested: bool = False
                  ) -> dict[str, Any] | web.Response:
        if len(body) > self.max_body_bytes:
            return self.bedrock_error("ValidationException", "Input is too long for requested "
                                      "model.")
        params = self.decode_json(body)
        if params is None:
            return self.bedrock_error("ValidationException", "Malformed input request, please "
                                      "reformat your input and try again.")
        for key in ("model", "stream"):
            if key in params:
                return self.bedrock_error("ValidationException", f"Malformed input request: "
                                          f"#: extraneous key [{key}] is not permitted, please "
                                          "reformat your input and try again.")
        if "anthropic_version" not in params:
            return self.bedrock_error("ValidationException", "Malformed input request: #: "
                                      "required key [anthropic_version] not found, please "
                                      "reformat your input and try again.")
        unknown = [b for b in params.get("anthropic_beta") or () if b not in self.betas]
        if unknown:
            return self.bedrock_error("ValidationException", "invalid beta flag")
        if self.models is not None and model not in self.models:
            return self.bedrock_error("ValidationException",
                                      "The provided model identifier is invalid.")
        return params

    async def _read(self, request: web.Request, operation: str
                    ) -> tuple[bytes, dict[str, Any] | web.Response]:
        body = await request.read()
        denied = self.check_auth(request, body)  # the front end answers before the model
        result: dict[str, Any] | web.StreamResponse
        if denied is not None:
            result = denied
        elif operation == COUNT_TOKENS:
            result = self._count_input(request.match_info["model"], body)
        else:
            result = self._validate(request.match_info["model"], body)
        if not isinstance(result, dict):
            self.record(request, body, operation)
            assert isinstance(result, web.Response)
        return body, result

    def _count_input(self, model: str, body: bytes) -> dict[str, Any] | web.Response:
        # {"input": {"invokeModel": {"body": base64(InvokeModel body)}}} (botocore's model).
        outer = self.decode_json(body) or {}
        inner = ((outer.get("input") or {}).get("invokeModel") or {}).get("body")
        if not isinstance(inner, str):
            return self.bedrock_error("ValidationException", "1 validation error detected: "
                                      "Value null at 'input' failed to satisfy constraint: "
                                      "Member must not be null")
        try:
            raw = base64.b64decode(inner, validate=True)
        except ValueError:
            return self.bedrock_error("ValidationException", "Invalid base64 body")
        return self._validate(model, raw)

    async def _invoke(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, CREATE)

    async def _stream_route(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, STREAM)

    async def _count(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, COUNT_TOKENS)

    async def _messages_api_serve(self, request: web.Request, operation: str
                                  ) -> web.StreamResponse:
        _INVOCATION.set(_Invocation())  # the stream's message_stop carries the metrics here too
        return await super()._messages_api_serve(request, operation)

    async def _serve(self, request: web.Request, operation: str) -> web.StreamResponse:
        seen = _Invocation()
        _INVOCATION.set(seen)  # this request's task only
        body, params = await self._read(request, operation)
        if isinstance(params, web.Response):
            return params
        model = request.match_info["model"]
        count = (lambda n: {"inputTokens": n}) if operation == COUNT_TOKENS else None
        resp: web.StreamResponse = await self.answer(request, body, operation=operation, params=params,
                                 model=model, stream=operation == STREAM, count=count)
        if operation == CREATE and resp.status == 200 and isinstance(resp, web.Response):
            # InvokeModel's invocation metrics headers (the stream's go in its last event).
            usage = (self.decode_json(resp.body if isinstance(resp.body, bytes) else b"")
                     or {}).get("usage") or {}
            resp.headers.update({
                "X-Amzn-Bedrock-Input-Token-Count": str(usage.get("input_tokens", 0)),
                "X-Amzn-Bedrock-Output-Token-Count": str(usage.get("output_tokens", 0)),
                "X-Amzn-Bedrock-Invocation-Latency": str(seen.elapsed_ms())})
        return resp

    async def _unknown(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.record(request, body, "unknown")
        return self.bedrock_error("UnknownOperationException", "", status=404)
