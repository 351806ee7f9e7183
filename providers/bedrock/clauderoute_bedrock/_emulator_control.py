"""Bedrock's control plane, emulated for the model catalog's sync: ``ListFoundationModels``
(``GET /foundation-models``) and ``ListInferenceProfiles`` (``GET /inference-profiles``, paged
by ``maxResults``/``nextToken``), in the shapes of botocore's ``bedrock`` service model (rest-json,
SigV4 service ``bedrock``), so that boto3's own ``bedrock`` client reads them.

``foundation_models`` holds what the emulator announces: by default the shipped catalog's
Bedrock ids; a test appends a model the catalog does not know (``announce``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from clauderoute.provider import catalog

__all__ = ["ControlPlaneMixin", "foundation_model"]

_ACCOUNT = "123456789012"
_PREFIXES = ("us", "eu", "apac", "global")


def foundation_model(model_id: str, name: str, region: str, *,
                     profile_only: bool) -> dict[str, Any]:
    """One ``FoundationModelSummary`` (botocore's shape)."""
    return {
        "modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model_id}",
        "modelId": model_id, "modelName": name, "providerName": "Anthropic",
        "inputModalities": ["TEXT", "IMAGE"], "outputModalities": ["TEXT"],
        "responseStreamingSupported": True, "customizationsSupported": [],
        "inferenceTypesSupported": ["INFERENCE_PROFILE"] if profile_only else ["ON_DEMAND"],
        "modelLifecycle": {"status": "ACTIVE"},
    }


def _catalog_models(region: str) -> list[dict[str, Any]]:
    out = []
    for name, facts in catalog().items():
        model_id = facts.get("bedrock")
        if isinstance(model_id, str):
            out.append(foundation_model(model_id, name, region,
                                        profile_only=bool(facts.get("bedrock_profile"))))
    return out


class ControlPlaneMixin:
    """Listing handlers; needs the emulator's ``region``, ``record``, ``check_auth`` and
    ``bedrock_error``."""

    region: str
    record: Callable[..., None]
    check_auth: Callable[[web.Request, bytes], web.StreamResponse | None]
    bedrock_error: Callable[..., web.Response]
    #: page size of ListInferenceProfiles when the caller gives no ``maxResults``.
    profiles_page_size = 1000

    def init_control(self) -> None:
        self.foundation_models: list[dict[str, Any]] = _catalog_models(self.region)

    def announce(self, model_id: str, name: str = "", *, profile_only: bool = True) -> None:
        """Serve and list one more model (its profiles too, when ``profile_only``)."""
        self.foundation_models.append(foundation_model(model_id, name or model_id,
                                                       self.region, profile_only=profile_only))

    def control_routes(self) -> list[web.RouteDef]:
        return [web.get("/foundation-models", self._list_foundation_models),
                web.get("/inference-profiles", self._list_inference_profiles)]

    def _begin(self, request: web.Request, operation: str) -> web.StreamResponse | None:
        self.record(request, b"", operation)
        return self.check_auth(request, b"")

    async def _list_foundation_models(self, request: web.Request) -> web.StreamResponse:
        denied = self._begin(request, "bedrock.list_foundation_models")
        if denied is not None:
            return denied
        provider = request.query.get("byProvider")
        found = [m for m in self.foundation_models
                 if provider is None or m["providerName"].lower() == provider.lower()]
        return web.json_response({"modelSummaries": found})

    def _profiles(self) -> list[dict[str, Any]]:
        out = []
        for m in self.foundation_models:
            if "INFERENCE_PROFILE" not in m["inferenceTypesSupported"]:
                continue
            for prefix in _PREFIXES:
                pid = f"{prefix}.{m['modelId']}"
                out.append({
                    "inferenceProfileName": f"{prefix.upper()} {m['modelName']}",
                    "inferenceProfileArn": (f"arn:aws:bedrock:{self.region}:{_ACCOUNT}:"
                                            f"inference-profile/{pid}"),
                    "inferenceProfileId": pid, "status": "ACTIVE", "type": "SYSTEM_DEFINED",
                    "models": [{"modelArn": m["modelArn"]}],
                    "createdAt": "2026-09-22T10:00:00Z", "updatedAt": "2026-09-22T10:00:00Z"})
        return out

    async def _list_inference_profiles(self, request: web.Request) -> web.StreamResponse:
        denied = self._begin(request, "bedrock.list_inference_profiles")
        if denied is not None:
            return denied
        q = request.query
        items = [p for p in self._profiles() if q.get("type") in (None, p["type"])]
        try:
            size = int(q.get("maxResults", self.profiles_page_size))
            start = int(q.get("nextToken", "0"))
        except ValueError:
            return self.bedrock_error("ValidationException", "invalid maxResults or nextToken")
        if not 1 <= size <= 1000 or not 0 <= start <= len(items):
            return self.bedrock_error("ValidationException", "invalid maxResults or nextToken")
        page: dict[str, Any] = {"inferenceProfileSummaries": items[start:start + size]}
        if start + size < len(items):
            page["nextToken"] = str(start + size)
        return web.json_response(page)
