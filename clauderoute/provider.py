"""The public provider API: everything a platform provider needs, in one module.

A provider translates clauderoute's canonical calls into one platform's HTTP requests and that
platform's answers back into canonical results (see ``Provider``'s docstring for the contract
and a ten-line example, and ``docs/providers.md`` for a walk-through). The bundled providers
(the Claude API, Bedrock, Vertex, Foundry and the others under ``providers/``) import from this
module only, so a third-party provider has exactly the same tools they have.

Groups:

* **The contract**: ``Provider``, ``Call``, ``HttpRequest``, ``HttpResponse``, ``Capabilities``,
  ``Action``, ``Auth``, ``NoAuth``, ``StreamDecoder``; ``SharedRefresh``, one credential refresh
  in flight per auth object, its failure a ``CredentialsError``; ``BearerToken``, an ``Auth`` to
  subclass for a fixed token sent as ``Authorization: Bearer``.
* **SigV4 signing** (AWS Signature Version 4): ``SigV4Signer``, the signature over the exact
  request sent; ``SigV4Auth``, an ``Auth`` to subclass that keeps a credential source fresh and
  signs with it; ``StaticCredentials``, fixed keys as such a source.
* **Google OAuth**: ``GoogleOAuth``, an ``Auth`` to subclass that keeps a google-auth access
  token fresh (ADC, a key file or given credentials; google-auth imported at the first refresh)
  and sends it as ``Authorization: Bearer``.
* **Operation names** (the keys of ``Capabilities.operations``): ``CREATE``, ``STREAM``,
  ``COUNT_TOKENS``, the resource operations (``BATCHES_*``, ``FILES_*``, ``SKILLS_*``,
  ``SKILL_VERSIONS_*``, ``MODELS_*``), the references a Messages call may need
  (``FILE_REFERENCE``, ``SKILL_REFERENCE``) and ``ROUTES`` (method, path, beta of each).
* **Shaping helpers** for platforms that speak the Claude API's body: ``claude_api_request``,
  ``claude_resource_request``, ``encode_body``, ``json_headers``.
* **Answer helpers**: ``SSEEventDecoder`` (the Claude API's server-sent events), ``decode_event``,
  ``add_message_extra`` (what a platform said about an answer outside its body, for
  ``Message.extra``; a function to make it on first read),
  ``ErrorEvent``/``ErrorBody``, ``EVENT_ERROR_STATUS``, ``parse_retry_after``, ``mask_headers``;
  capacity signals: ``RateLimits``, ``Bucket``, ``parse_rate_limits`` (``Provider.rate_limits``).
* **The model catalog**: ``catalog``, ``model_facts``, ``resolve_model``, ``platform_facts``,
  ``retirement``; ``request_version`` (the API version a provider sends for a model);
  ``ServedModel``, what a provider's optional ``served_models()`` returns for ``clauderoute
  models --sync`` (a platform without the Claude API's ``GET /v1/models``).
* **Errors** a provider raises: the whole tree of ``clauderoute`` errors is re-exported here.
* **Setting checks** for a provider's constructor: ``check_base_url`` (an http(s) URL without
  credentials; ``InsecureTransportWarning`` for plain http to another host) and
  ``check_header_value`` (no line breaks: header injection), errors naming the setting.

.. versionadded:: 0.2
"""

from __future__ import annotations

from ._bearer import BearerToken
from ._catalog import catalog, model_facts, platform_facts, resolve_model
from ._catalog._lifecycle import retirement
from ._catalog._sync import ServedModel
from ._checks import InsecureTransportWarning, check_base_url, check_header_value
from ._errors import (
    AllPlatformsFailed,
    AllPlatformsFailedError,
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CapabilityError,
    ClauderouteError,
    ConfigurationError,
    ConflictError,
    ConnectError,
    ConnectTimeout,
    ConnectTimeoutError,
    CredentialsError,
    ContentTooLargeError,
    DeadlineExceeded,
    DeadlineExceededError,
    ErrorResponse,
    InternalServerError,
    InvalidRequest,
    InvalidRequestError,
    MalformedResponse,
    MalformedResponseError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    ReadTimeout,
    ReadTimeoutError,
    RequestError,
    RequestTooLarge,
    RequestTooLargeError,
    status_error_class,
    StreamInterrupted,
    StreamInterruptedError,
    TransportError,
    UnknownPlatformError,
    UnprocessableEntityError,
    with_response,
)
from ._google_auth import GoogleOAuth
from ._operations import (
    BATCHES_CANCEL,
    BATCHES_CREATE,
    BATCHES_DELETE,
    BATCHES_LIST,
    BATCHES_RESULTS,
    BATCHES_RETRIEVE,
    FILE_REFERENCE,
    FILES_BETA,
    FILES_DELETE,
    FILES_DOWNLOAD,
    FILES_LIST,
    FILES_RETRIEVE,
    FILES_UPLOAD,
    MODELS_LIST,
    MODELS_RETRIEVE,
    ROUTES,
    SKILL_REFERENCE,
    SKILL_VERSIONS_CREATE,
    SKILL_VERSIONS_DELETE,
    SKILL_VERSIONS_LIST,
    SKILL_VERSIONS_RETRIEVE,
    SKILLS_BETA,
    SKILLS_CREATE,
    SKILLS_DELETE,
    SKILLS_LIST,
    SKILLS_RETRIEVE,
)
from ._provider import (
    COUNT_TOKENS,
    CREATE,
    EVENT_ERROR_STATUS,
    MB,
    STREAM,
    Action,
    Auth,
    Call,
    Capabilities,
    HttpRequest,
    HttpResponse,
    NoAuth,
    Provider,
    StreamDecoder,
    mask_headers,
)
from ._refresh import SharedRefresh
from ._ratelimits import Bucket, RateLimits, parse_rate_limits
from ._retry import parse_retry_after
from ._route_rules import request_version
from ._shaping import claude_api_request, claude_resource_request, encode_body, json_headers
from ._sigv4 import SigV4Signer
from ._sigv4_auth import SigV4Auth, StaticCredentials
from ._sse import SSEDecoder, SSEEventDecoder
from .types._messages import Message, MessageTokensCount, add_message_extra
from .types._stream import ErrorBody, ErrorEvent, StreamEvent, decode_event

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "Action",
    "AllPlatformsFailed",
    "AllPlatformsFailedError",
    "Auth",
    "AuthenticationError",
    "BATCHES_CANCEL",
    "BATCHES_CREATE",
    "BATCHES_DELETE",
    "BATCHES_LIST",
    "BATCHES_RESULTS",
    "BATCHES_RETRIEVE",
    "BadRequestError",
    "BearerToken",
    "Bucket",
    "COUNT_TOKENS",
    "CREATE",
    "Call",
    "Capabilities",
    "CapabilityError",
    "ClauderouteError",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "ConnectTimeout",
    "ConnectTimeoutError",
    "ContentTooLargeError",
    "CredentialsError",
    "DeadlineExceeded",
    "DeadlineExceededError",
    "EVENT_ERROR_STATUS",
    "ErrorBody",
    "ErrorEvent",
    "ErrorResponse",
    "FILES_BETA",
    "FILES_DELETE",
    "FILES_DOWNLOAD",
    "FILES_LIST",
    "FILES_RETRIEVE",
    "FILES_UPLOAD",
    "FILE_REFERENCE",
    "GoogleOAuth",
    "HttpRequest",
    "HttpResponse",
    "InsecureTransportWarning",
    "InternalServerError",
    "InvalidRequest",
    "InvalidRequestError",
    "MB",
    "MODELS_LIST",
    "MODELS_RETRIEVE",
    "MalformedResponse",
    "MalformedResponseError",
    "Message",
    "MessageTokensCount",
    "NoAuth",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "Provider",
    "ROUTES",
    "RateLimitError",
    "RateLimits",
    "ReadTimeout",
    "ReadTimeoutError",
    "RequestError",
    "RequestTooLarge",
    "RequestTooLargeError",
    "SKILLS_BETA",
    "SKILLS_CREATE",
    "SKILLS_DELETE",
    "SKILLS_LIST",
    "SKILLS_RETRIEVE",
    "SKILL_REFERENCE",
    "SKILL_VERSIONS_CREATE",
    "SKILL_VERSIONS_DELETE",
    "SKILL_VERSIONS_LIST",
    "SKILL_VERSIONS_RETRIEVE",
    "SSEDecoder",
    "SSEEventDecoder",
    "STREAM",
    "ServedModel",
    "SharedRefresh",
    "SigV4Auth",
    "SigV4Signer",
    "StaticCredentials",
    "StreamDecoder",
    "StreamEvent",
    "StreamInterrupted",
    "StreamInterruptedError",
    "TransportError",
    "UnknownPlatformError",
    "UnprocessableEntityError",
    "add_message_extra",
    "catalog",
    "check_base_url",
    "check_header_value",
    "claude_api_request",
    "claude_resource_request",
    "decode_event",
    "encode_body",
    "json_headers",
    "mask_headers",
    "model_facts",
    "parse_rate_limits",
    "parse_retry_after",
    "platform_facts",
    "request_version",
    "resolve_model",
    "retirement",
    "status_error_class",
    "with_response",
]
