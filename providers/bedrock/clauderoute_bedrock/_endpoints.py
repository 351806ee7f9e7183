"""Which Bedrock endpoint serves a model, under which id, with which betas and body version.

Bedrock serves Claude on three endpoints (AWS "Inference using Anthropic Messages API"):
InvokeModel on ``bedrock-runtime.{region}.amazonaws.com`` (``invoke``, the
ARN-versioned models: "Opus 4.6 and earlier"), and the Claude Messages API on
``bedrock-mantle.{region}.api.aws/anthropic`` (``mantle``, SigV4 service ``bedrock-mantle``, as
the SDK's ``lib/bedrock/_mantle.py`` signs) and on ``bedrock-runtime.{region}.amazonaws.com/
anthropic`` (``runtime-messages``, SigV4 service ``bedrock`` as for the rest of that host). The
catalog says per model (``bedrock_endpoint``); config may force one. The Messages-API endpoints
take ``anthropic.``-prefixed ids without a version suffix (``bedrock_messages`` when it differs
from the InvokeModel id), the Claude API's body, SSE, and ``anthropic-version`` as a header.
"""

from __future__ import annotations

import functools
import tomllib
from importlib.resources import files
from typing import Any, NamedTuple
from urllib.parse import quote

from clauderoute.provider import ConfigurationError, model_facts, request_version

__all__ = ["ENDPOINTS", "MESSAGES_API", "Target", "beta_lists", "inference_profile_prefix",
           "model_path", "resolve"]

ENDPOINTS = ("invoke", "mantle", "runtime-messages")
#: The endpoints that speak the Claude Messages API.
MESSAGES_API = frozenset({"mantle", "runtime-messages"})
# Cross-region inference profile prefixes (AWS docs, "Supported Regions and models for inference
# profiles"); an id with one of them, or an ARN, is used as given.
PROFILES = ("us.", "us-gov.", "eu.", "apac.", "jp.", "au.", "ca.", "global.")
# RFC 3986 sub-delims plus ":" and "@": kept literally in a path segment.
_PCHAR = "!$&'()*+,;=:@"
# The header version the Messages-API endpoints take when the provider's setting is a body
# version such as "bedrock-2023-05-31" (AWS's Messages API pages use 2023-06-01).
_HEADER_DEFAULT = "2023-06-01"


class Target(NamedTuple):
    """Where and how one model is called: its id there, the endpoint, the API version."""

    model_id: str
    endpoint: str
    version: str


@functools.cache
def beta_lists() -> dict[str, frozenset[str]]:
    """``{"invoke": ..., "messages": ...}`` from ``betas.toml`` (its header cites the source)."""
    data = tomllib.loads(files(__package__ or __name__).joinpath("betas.toml").read_text("utf-8"))
    return {k: frozenset(data[k]) for k in ("invoke", "messages")}


def model_path(model_id: str) -> str:
    """A model id as one path segment: ``/`` (of an ARN) and every character outside RFC 3986's
    ``pchar`` percent-encoded, ``:`` and the other ``pchar`` delimiters kept, as the SDK does.

    The signature covers the path exactly as sent. URL libraries normalise ``%3A`` back to ``:``
    on the wire (yarl, hence aiohttp, does), so encoding ``:`` as boto3 does would sign a path
    other than the one sent; this form is left unchanged by such normalisation.
    """
    if model_id.partition(";")[0] in ("", ".", ".."):
        raise ConfigurationError(f"bedrock: {model_id!r} is not a model id")
    return quote(model_id, safe=_PCHAR)


def inference_profile_prefix(region: str) -> str | None:
    """The geographic cross-region inference profile for ``region`` (``us``, ``eu``, ``apac``),
    or ``None`` where there is none to infer."""
    for start, prefix in (("us-gov-", "us-gov"), ("us-", "us"), ("eu-", "eu"), ("ap-", "apac")):
        if region.startswith(start):
            return prefix
    return None


def _profiled(model_id: str, choice: str, region: str) -> str:
    if model_id.startswith(("arn:", *PROFILES)):
        return model_id
    prefix = (inference_profile_prefix(region) if choice == "auto"
              else None if choice in ("none", "") else choice.rstrip("."))
    return f"{prefix}.{model_id}" if prefix else model_id


def resolve(p: Any, model: str) -> Target:
    """The ``Target`` of ``model`` on the Bedrock provider ``p`` (its ``models``, ``endpoint``,
    ``inference_profile``, ``region`` and ``anthropic_version`` settings, then the catalog)."""
    override = p.models.get(model)
    facts = {} if override is not None else (model_facts(model) or {})
    endpoint = p.endpoint or facts.get("bedrock_endpoint")
    if endpoint not in ENDPOINTS:
        endpoint = "invoke"
    if override is not None:
        model_id = override
    elif endpoint in MESSAGES_API and isinstance(facts.get("bedrock_messages"), str):
        model_id = facts["bedrock_messages"]
    else:
        model_id = p.catalog_id(model)
    # The bedrock-mantle host serves in-region ids; the profiles are bedrock-runtime's.
    if override is None and facts.get("bedrock_profile") and endpoint != "mantle":
        model_id = _profiled(model_id, p.inference_profile, p.region or "")
    version = request_version(p, model)
    if endpoint in MESSAGES_API and not version[:1].isdigit():
        version = _HEADER_DEFAULT  # a body version ("bedrock-...") is no header value
    return Target(model_id, endpoint, version)
