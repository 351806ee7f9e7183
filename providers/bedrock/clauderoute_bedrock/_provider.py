"""Claude on Amazon Bedrock: InvokeModel with the native body, and the Messages-API endpoints.

InvokeModel puts the model in the path
(``/model/{modelId}/invoke`` or ``/invoke-with-response-stream``), the version and betas in the
body (``anthropic_version``, ``anthropic_beta``), streams AWS event-stream frames instead of SSE,
and answers errors in AWS's shape (``x-amzn-ErrorType`` + ``{"message"}``). Token counting is the
CountTokens operation. Requests are signed with SigV4 (service ``bedrock``) or carry a Bedrock
API key. Bedrock's Messages-API endpoints (for newer models) take the Claude API's paths and
body under ``https://bedrock-mantle.{region}.api.aws/anthropic`` (SigV4 service
``bedrock-mantle``) or ``https://bedrock-runtime.{region}.amazonaws.com/anthropic`` (service
``bedrock``); ``_endpoints`` says which endpoint, id, version and betas a model gets.
"""

from __future__ import annotations

import base64
import functools
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from clauderoute import provider as E
from clauderoute.provider import (
    COUNT_TOKENS,
    CREATE,
    EVENT_ERROR_STATUS,
    MB,
    STREAM,
    Action,
    Call,
    Capabilities,
    CapabilityError,
    ConfigurationError,
    ErrorEvent,
    HttpRequest,
    HttpResponse,
    Message,
    Provider,
    ServedModel,
    StreamDecoder,
    add_message_extra,
    check_base_url,
    claude_api_request,
    encode_body,
)

from ._auth import BearerAuth, SigV4Auth, profile_region
from ._endpoints import (
    ENDPOINTS,
    MESSAGES_API,
    Target,
    beta_lists,
    inference_profile_prefix,
    model_path,
    resolve,
)
from ._errors import error_name, exception_entry
from ._eventstream import (
    METRICS,
    BedrockSSEDecoder,
    EventStreamDecoder,
    invocation_metrics,
    metrics_extra,
)
from ._listing import served_models

__all__ = ["BETAS", "METRICS", "BedrockProvider", "inference_profile_prefix",
           "invocation_metrics", "model_path"]

# A region is a DNS label fragment ("us-east-1"): it becomes part of the host name.
_REGION = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
#: Betas Bedrock accepts on any of its endpoints (``betas.toml`` cites the source and lists
#: them per endpoint; ``prepare`` checks the model's endpoint). Extend with ``betas=``.
BETAS = beta_lists()["invoke"] | beta_lists()["messages"]


class _CountTokens(msgspec.Struct):
    inputTokens: int


_count_decoder = msgspec.json.Decoder(_CountTokens)


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


class BedrockProvider(Provider):
    """Claude on Amazon Bedrock.

    Args:
        region: the AWS region; default ``AWS_REGION`` / ``AWS_DEFAULT_REGION``, else the
            profile's region, else ``us-east-1`` (the SDK's fallback).
        profile: a shared-config profile for boto3's credential chain; default ``AWS_PROFILE``.
        api_key: a Bedrock API key, sent as ``Authorization: Bearer`` instead of SigV4; default
            ``AWS_BEARER_TOKEN_BEDROCK`` (unless explicit AWS keys, a profile or credentials
            are given).
        access_key, secret_key, session_token: static AWS keys instead of the chain.
        credentials: a botocore ``Credentials`` object (e.g. ``RefreshableCredentials``).
        base_url: the InvokeModel root instead of ``https://bedrock-runtime.{region}.amazonaws.
            com`` (a VPC endpoint, a gateway, an emulator); default
            ``ANTHROPIC_BEDROCK_BASE_URL``. Signatures cover the host actually used.
        mantle_base_url: the bedrock-mantle endpoint's root instead of
            ``https://bedrock-mantle.{region}.api.aws/anthropic``. (The bedrock-runtime
            Messages API is ``{base_url}/anthropic``.) When ``base_url`` is given and this is
            not, models of the mantle endpoint are sent to ``{base_url}/anthropic`` too, as
            bedrock-runtime's Messages API: a ``base_url`` then reaches every model.
        endpoint: ``"invoke"``, ``"mantle"`` or ``"runtime-messages"`` to force an endpoint for
            every model; default: the catalog's ``bedrock_endpoint`` for the model, else
            InvokeModel.
        control_base_url: the control plane's root (ListFoundationModels, for ``clauderoute
            models --sync``) instead of ``https://bedrock.{region}.amazonaws.com``.
        inference_profile: for catalog models that need a cross-region inference profile:
            ``"auto"`` (from the region: ``us.``, ``eu.``, ``apac.``), a prefix such as
            ``"global"`` or ``"jp"``, or ``"none"`` for the base id. Ids given in ``models``
            are used as given.
        betas: beta names accepted, replacing ``betas.toml``'s lists for every endpoint (to
            use a beta Bedrock accepts that the list lacks).
        anthropic_version: InvokeModel's body version (default ``bedrock-2023-05-31``); a
            Claude API version such as ``2026-10-21`` is also the Messages-API endpoints'
            header. Models the catalog pins (``bedrock_version``: ARN-versioned models reject
            2026-10-21) keep their own.
        **kwargs: the settings every provider takes (see ``Provider``).

    Raises:
        ConfigurationError: a malformed region, an unknown endpoint, an API key together with
            AWS keys, a profile or credentials.

    .. versionadded:: 0.1
    """

    platform = "bedrock"
    genai_provider_name = "aws.bedrock"  # OpenTelemetry GenAI well-known value
    default_version = "bedrock-2023-05-31"  # AWS docs; InvokeModel rejects the SDK 2.x date
    request_id_header = "x-amzn-requestid"  # response headers arrive lower-cased
    # No Batches (S3-based batch inference is another API), Files, Skills or Models API.
    capabilities = Capabilities(
        operations=frozenset({CREATE, STREAM, COUNT_TOKENS}), betas=BETAS,
        max_body_bytes={CREATE: 32 * MB, STREAM: 32 * MB, COUNT_TOKENS: 32 * MB},
    )

    def __init__(self, *, region: str | None = None, profile: str | None = None,
                 api_key: str | None = None, access_key: str | None = None,
                 secret_key: str | None = None, session_token: str | None = None,
                 credentials: Any = None, base_url: str | None = None,
                 mantle_base_url: str | None = None, endpoint: str | None = None,
                 control_base_url: str | None = None,
                 inference_profile: str = "auto", betas: Sequence[str] | None = None,
                 **kwargs: Any) -> None:
        profile = profile or _env("AWS_PROFILE")
        region = (region or _env("AWS_REGION", "AWS_DEFAULT_REGION") or profile_region(profile)
                  or "us-east-1")
        if not _REGION.fullmatch(region):
            raise ConfigurationError(
                f"bedrock: region must be an AWS region such as 'us-east-1', not "
                f"{region[:80]!r}; use base_url for a full URL")
        if endpoint is not None and endpoint not in ENDPOINTS:
            raise ConfigurationError(f"bedrock: endpoint must be one of {', '.join(ENDPOINTS)},"
                                     f" not {endpoint[:40]!r}")
        base_url = base_url or _env("ANTHROPIC_BEDROCK_BASE_URL")
        super().__init__(base_url=base_url or f"https://bedrock-runtime.{region}.amazonaws.com",
                         **kwargs)
        self.region = region
        self.endpoint = endpoint
        self.mantle_base_url = check_base_url(mantle_base_url or f"https://bedrock-mantle."
                                              f"{region}.api.aws/anthropic", "mantle_base_url").rstrip("/")
        # base_url without mantle_base_url: every model goes there, never to a host not chosen.
        self._mantle_on_base = base_url is not None and mantle_base_url is None
        self.inference_profile = inference_profile
        # None: boto3's own endpoint for the region
        self.control_base_url = control_base_url and check_base_url(control_base_url,
                                                                    "control_base_url")
        self._resolved: dict[str, Target] = {}
        self._roots: dict[str, str] = {}
        #: betas accepted per endpoint kind ("invoke", "messages"): betas.toml, or ``betas=``.
        self.endpoint_betas = beta_lists() if betas is None else {
            "invoke": frozenset(betas), "messages": frozenset(betas)}
        if betas is not None:
            self.capabilities = Capabilities(operations=self.capabilities.operations,
                                             betas=frozenset(betas),
                                             max_body_bytes=self.capabilities.max_body_bytes)
        self.auth = self._credential(api_key, profile, access_key, secret_key, session_token,
                                     credentials)

    @property
    def prepare_may_block(self) -> bool:
        """Whether ``prepare`` may wait (and so is timed): only to resolve or renew SigV4
        credentials, off the loop; never with an API key or SigV4 credentials not due."""
        return isinstance(self.auth, SigV4Auth) and not self.auth.ready()

    def _credential(self, api_key: str | None, profile: str | None, access_key: str | None,
                    secret_key: str | None, session_token: str | None,
                    credentials: Any) -> BearerAuth | SigV4Auth:
        aws = bool(access_key or secret_key or credentials is not None)
        if api_key and (aws or profile):
            raise ConfigurationError(
                f"provider {self.name!r}: set either api_key or AWS credentials, not both")
        if not (aws or profile):
            api_key = api_key or _env("AWS_BEARER_TOKEN_BEDROCK")
            if api_key:
                return BearerAuth(api_key)
        return SigV4Auth(region=self.region or "", profile=profile, access_key=access_key,
                         secret_key=secret_key, session_token=session_token,
                         credentials=credentials)

    def __repr__(self) -> str:
        return (f"<BedrockProvider name={self.name!r} region={self.region!r} "
                f"base_url={self.base_url!r} auth={self.auth.kind!r}>")

    # --- request side ---------------------------------------------------------------------------

    def model_id(self, model: str) -> str:
        """Config overrides as given; a catalog id (the Messages-API id on those endpoints)
        with the cross-region inference profile the catalog says on-demand use on
        bedrock-runtime needs (``bedrock_profile``)."""
        return self._resolve(model).model_id

    def catalog_id(self, model: str) -> str:
        """The catalog's Bedrock id for ``model`` (config ``models`` first), as is."""
        return super().model_id(model)

    def endpoint_for(self, model: str) -> str:
        """``"invoke"``, ``"mantle"`` or ``"runtime-messages"``: config, else the catalog's
        ``bedrock_endpoint``."""
        return self._resolve(model).endpoint

    def _resolve(self, model: str) -> Target:
        # A model's id, endpoint and version, worked out once per name (catalog look-ups and
        # the inference-profile choice on every request otherwise).
        found = self._resolved.get(model)
        if found is None:
            if len(self._resolved) >= 256:
                self._resolved.clear()
            found = self._resolved[model] = resolve(self, model)
        return found

    def invoke_body(self, call: Call, version: str | None = None) -> dict[str, Any]:
        """The InvokeModel body: the params without ``model`` and ``stream``, with
        ``anthropic_version`` (the model's, see ``_endpoints.resolve``) and the betas in
        ``anthropic_beta`` (a caller's ``extra_body`` values win, as in the SDK)."""
        body = dict(call.params)
        body.pop("model", None)
        body.pop("stream", None)
        body.setdefault("anthropic_version", version or self.anthropic_version)
        if call.betas:
            body.setdefault("anthropic_beta", list(call.betas))
        return body

    async def prepare(self, call: Call) -> HttpRequest:
        """``POST {base}/model/{id}/invoke`` (``/invoke-with-response-stream``,
        ``/count-tokens``), or the Claude API's paths on the Messages-API endpoint; signed.

        Raises:
            CapabilityError: the operation or a beta is not served here (before any network).
            ConfigurationError: no AWS credentials could be resolved.
        """
        if call.betas or call.needs or call.operation not in self.capabilities.operations:
            why = self.capabilities.missing(call)
            if why is not None:
                raise CapabilityError(f"provider {self.name!r} (Amazon Bedrock): {why}",
                                      platform=self.name)
        target = self._resolve(call.params["model"])
        if call.betas:
            self._check_betas(call, target.endpoint)
        auth = self.auth  # an API key, or SigV4 credentials not due: nothing to await
        if isinstance(auth, SigV4Auth) and not auth.ready():
            await auth.refresh()
        model = target.model_id
        if target.endpoint in MESSAGES_API:
            return self._messages_request(call, target)
        body = self.invoke_body(call, target.version)
        root = self._roots.get(model)
        if root is None:  # the encoded path, once per id
            if len(self._roots) >= 256:
                self._roots.clear()
            root = self._roots[model] = f"{self.base_url}/model/{model_path(model)}"
        headers = {"accept": "application/json", "content-type": "application/json"}
        if call.operation == COUNT_TOKENS:
            # CountTokens takes the InvokeModel body, base64-encoded (botocore's service model).
            # The InvokeModel body requires max_tokens, which a count does not use.
            body.setdefault("max_tokens", 1)
            payload = {"input": {"invokeModel": {"body": base64.b64encode(
                encode_body(body)).decode()}}}
            url, data = root + "/count-tokens", encode_body(payload)
        else:
            suffix = "/invoke-with-response-stream" if call.operation == STREAM else "/invoke"
            url, data = root + suffix, encode_body(body)
            if call.operation == STREAM:
                headers["accept"] = "application/vnd.amazon.eventstream"
        if call.extra_headers:
            headers.update(call.extra_headers)
        return self.auth.sign(HttpRequest("POST", url, headers, data))

    #: How ``served_models`` asks (for ``clauderoute models --sync``'s report).
    served_models_via = "ListFoundationModels + ListInferenceProfiles"

    def served_models(self) -> list[ServedModel]:
        """Blocking (``clauderoute models --sync`` runs it off the loop after
        ``auth.refresh()``): the Anthropic models this region serves (``_listing``)."""
        return served_models(self)

    def _check_betas(self, call: Call, endpoint: str) -> None:
        # Bedrock answers 400 "invalid beta flag" for a beta its endpoint does not know, and AWS
        # publishes no complete list: refuse it here, before sending, naming the list to extend.
        kind = "messages" if endpoint in MESSAGES_API else "invoke"
        unknown = [b for b in call.betas if b not in self.endpoint_betas[kind]]
        if unknown:
            raise CapabilityError(
                f"provider {self.name!r} (Amazon Bedrock, {endpoint} endpoint): beta "
                f"{', '.join(unknown)} is not on Bedrock's list for this endpoint (betas.toml,"
                " which cites its source); Bedrock would answer 'invalid beta flag'. If Bedrock"
                " accepts it, list it in this provider's betas setting", platform=self.name)

    def _messages_request(self, call: Call, target: Target) -> HttpRequest:
        """The Claude API's request on a Messages-API endpoint, signed for its host."""
        if target.endpoint == "mantle" and not self._mantle_on_base:
            root, service = self.mantle_base_url, "bedrock-mantle"
        else:  # bedrock-runtime's Messages API: the InvokeModel host, under /anthropic
            root, service = f"{self.base_url}/anthropic", "bedrock"
        req = claude_api_request(root, call, target.model_id, target.version)
        if isinstance(self.auth, SigV4Auth):
            return self.auth.sign(req, service=service)
        return self.auth.sign(req)

    def stream_decoder(self, call: Call) -> StreamDecoder:
        """AWS event-stream frames on InvokeModel; SSE on the Messages-API endpoints."""
        if self.endpoint_for(str(call.params.get("model", ""))) in MESSAGES_API:
            return BedrockSSEDecoder(self.name)
        return EventStreamDecoder(self.name)

    # --- answer side ----------------------------------------------------------------------------

    def parse(self, call: Call, response: HttpResponse) -> Any:
        """As the base, with CountTokens' ``{"inputTokens": N}`` turned into the Claude API's
        ``{"input_tokens": N}``."""
        if (call.operation == COUNT_TOKENS and response.status < 400
                and self.endpoint_for(str(call.params.get("model", ""))) == "invoke"):
            try:
                count = _count_decoder.decode(response.body).inputTokens
                response = HttpResponse(response.status, response.headers,
                                        encode_body({"input_tokens": count}))
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise E.MalformedResponse(
                    f"could not decode the CountTokens answer: {exc}", platform=self.name,
                    request_id=response.headers.get(self.request_id_header)) from exc
        result = super().parse(call, response)
        if isinstance(result, Message):  # the metrics made when ``extra`` is read, if ever
            add_message_extra(result, functools.partial(metrics_extra, response.headers))
        return result

    def error_from_response(self, response: HttpResponse) -> E.APIStatusError:
        """Map ``x-amzn-ErrorType`` + ``{"message"}`` (or, on the Messages-API endpoint, the
        Claude API's shape) to the SDK-named error class."""
        h = response.headers
        if "x-amzn-errortype" not in h and b'"type":"error"' in response.body.replace(b" ", b""):
            return super().error_from_response(response)  # the Claude API's shape (Mantle)
        name, message = error_name(h, response.body)
        entry = exception_entry(name)
        error_type = entry[0] if entry else name
        return self.status_error(response.status, message or f"HTTP {response.status}",
                                 error_type, h.get(self.request_id_header), h)

    def error_from_event(self, event: ErrorEvent, headers: Mapping[str, str]
                         ) -> E.APIStatusError:
        """An exception frame (or a Claude ``error`` event) that arrived after HTTP 200."""
        err = event.error
        original = getattr(err, "original_status", None)
        entry = exception_entry(err.type)
        if original is not None:
            status = int(original)
        elif entry is not None:
            status = entry[1]
        else:
            status = EVENT_ERROR_STATUS.get(err.type, 500)
        error_type = entry[0] if entry and original is None else err.type
        return self.status_error(status, err.message or error_type, error_type,
                                 headers.get(self.request_id_header), {})

    def classify(self, error: BaseException) -> Action:
        """Bedrock's table (throttling and unavailability fail over, validation is fatal); the
        base policy for anything else."""
        if isinstance(error, E.APIStatusError) and error.should_retry is None:
            entry = exception_entry(error.error_type)
            if entry is not None:
                return entry[2]
        return super().classify(error)
