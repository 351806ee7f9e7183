"""What Bedrock serves, for ``clauderoute models --sync``: ListFoundationModels (Anthropic's
models) and ListInferenceProfiles (the system-defined cross-region profiles), through boto3's own
``bedrock`` control-plane client on ``https://bedrock.{region}.amazonaws.com`` (botocore's
service model: rest-json, SigV4 service ``bedrock``).

Each model becomes a ``ServedModel``: an id the catalog knows keeps its entry's name; a new one
is named from its id (``anthropic.`` and the ``-vN[:M]``/``-YYYYMMDD`` suffixes dropped), as the
Claude docs' ids relate (``anthropic.claude-opus-4-6-v1`` ↔ ``claude-opus-4-6``). Facts: an id
without a version suffix is a Messages-API id (``bedrock_endpoint = "mantle"``, as the catalog
has Claude 4.7 and later); ``inferenceTypesSupported == ["INFERENCE_PROFILE"]`` means on-demand
use needs a profile (``bedrock_profile``); ``bedrock_profiles`` lists the profile prefixes.
"""

from __future__ import annotations

import re
from typing import Any

from clauderoute import provider as E
from clauderoute.provider import ConfigurationError, ServedModel, catalog

__all__ = ["served_models"]

_VERSION = re.compile(r"-v\d+(?::\d+)?$")
_DATED = re.compile(r"-\d{8}$")


def canonical_name(model_id: str) -> str:
    """The catalog name of a Bedrock model id: its entry's if known, else derived."""
    for name, facts in catalog().items():
        if model_id in (facts.get("bedrock"), facts.get("bedrock_messages")):
            return name
    return _DATED.sub("", _VERSION.sub("", model_id.removeprefix("anthropic.")))


def _call_boto(region: str, endpoint_url: str | None, creds: dict[str, str]
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Blocking: both listings (every page of the profiles)."""
    import boto3  # type: ignore[import-untyped]  # lazy

    client = boto3.client("bedrock", region_name=region, endpoint_url=endpoint_url, **creds)
    try:
        models = client.list_foundation_models(byProvider="Anthropic")["modelSummaries"]
        profiles: list[dict[str, Any]] = []
        token: dict[str, str] = {}
        while True:
            page = client.list_inference_profiles(typeEquals="SYSTEM_DEFINED", **token)
            profiles += page.get("inferenceProfileSummaries", [])
            if not page.get("nextToken"):
                return models, profiles
            token = {"nextToken": page["nextToken"]}
    finally:
        client.close()


def _translate(p: Any, exc: Exception) -> Exception:
    """botocore's exceptions as clauderoute's (one boundary)."""
    from botocore.exceptions import (  # type: ignore[import-untyped]
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
    )

    if isinstance(exc, ClientError):
        meta = exc.response.get("ResponseMetadata", {})
        err = exc.response.get("Error", {})
        error: Exception = p.status_error(int(meta.get("HTTPStatusCode") or 500),
                                          str(err.get("Message") or exc), err.get("Code"),
                                          meta.get("RequestId"), {})
        return error
    if isinstance(exc, EndpointConnectionError):
        return E.ConnectError(f"bedrock control plane: {exc}", platform=p.name)
    if isinstance(exc, NoCredentialsError):
        return ConfigurationError(f"provider {p.name!r}: listing Bedrock's models needs AWS "
                                  "credentials (or AWS_BEARER_TOKEN_BEDROCK for boto3)")
    return E.MalformedResponse(f"bedrock control plane: {type(exc).__name__}: {exc}",
                               platform=p.name)


def _served(models: list[dict[str, Any]], profiles: list[dict[str, Any]]) -> list[ServedModel]:
    prefixes: dict[str, list[str]] = {}
    for prof in profiles:
        pid = str(prof.get("inferenceProfileId", ""))
        head, _, model_id = pid.partition(".")
        if model_id:
            prefixes.setdefault(model_id, []).append(head)
    out = []
    for m in models:
        model_id = str(m["modelId"])
        facts: dict[str, Any] = {}
        if not _VERSION.search(model_id):  # a Messages-API id
            facts["bedrock_endpoint"] = "mantle"
        types = m.get("inferenceTypesSupported") or []
        if "INFERENCE_PROFILE" in types and "ON_DEMAND" not in types:
            facts["bedrock_profile"] = True
        if model_id in prefixes:
            facts["bedrock_profiles"] = sorted(set(prefixes[model_id]))
        out.append(ServedModel(model_id, canonical_name(model_id), facts, m.get("modelName")))
    return out


def served_models(p: Any) -> list[ServedModel]:
    """Blocking (the caller runs it off the event loop, after ``p.auth.refresh()``): the models
    ``p``'s region serves. Credentials: the provider's SigV4 ones; with a Bedrock API key, boto3
    reads ``AWS_BEARER_TOKEN_BEDROCK`` itself."""
    creds: dict[str, str] = {}
    if p.auth.kind == "sigv4":
        frozen = p.auth.credentials()
        creds = {"aws_access_key_id": frozen.access_key,
                 "aws_secret_access_key": frozen.secret_key}
        if frozen.token:
            creds["aws_session_token"] = frozen.token
    try:
        models, profiles = _call_boto(p.region, p.control_base_url, creds)
    except Exception as exc:  # botocore's, translated at this boundary
        raise _translate(p, exc) from exc
    return _served(models, profiles)
