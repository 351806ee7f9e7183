"""``client.models``: list and retrieve models, from the platform's Models API or, where the
platform has none, from clauderoute's catalog (labelled ``origin == "catalog"``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from .. import _errors as E
from .._catalog import catalog
from .._operations import MODELS_LIST, MODELS_RETRIEVE
from .._provider import Provider
from ..types._objects import ModelInfo
from ._base import Resource, json_attempt, make_call, object_decoder
from ._pages import AsyncPage, AsyncPaginator

if TYPE_CHECKING:
    from .._client import AsyncClient

__all__ = ["Models"]

Source = Literal["auto", "api", "catalog"]


def catalog_models(p: Provider) -> list[ModelInfo]:
    """The canonical models the catalog says ``p``'s platform serves, with ``p``'s ids (a
    platform the catalog data never names, such as deployment-named ones, gets every model)."""
    entries = catalog()
    named = any(p.platform in facts for facts in entries.values())
    out = []
    for name, facts in entries.items():
        if named and p.platform not in facts and name not in p.models:
            continue
        info = ModelInfo(id=p.model_id(name), display_name=name)
        vars(info).update(_origin="catalog", _provider=p.name)
        out.append(info)
    return out


class Models:
    """The Models API (``GET /v1/models``) on the provider the call is pinned to, or the first
    configured provider that offers it.

    ``source``: ``"api"`` asks the platform (``CapabilityError`` where it has no Models API),
    ``"catalog"`` answers from the catalog without a network call, ``"auto"`` (default) asks the
    platform when it can and falls back to the catalog.
    """

    def __init__(self, client: AsyncClient) -> None:
        self._res = Resource(client)
        self._client = client

    def _target(self, operation: str, provider: str | None, source: Source) -> Provider | None:
        """The provider to ask, or ``None`` to answer from the catalog."""
        if source not in ("auto", "api", "catalog"):
            raise E.InvalidRequest("must be 'auto', 'api' or 'catalog'", field="source")
        router = self._client.router
        probe = make_call(operation, path={"model_id": "-"} if operation == MODELS_RETRIEVE
                          else None)
        if source == "catalog":
            return None
        try:
            return self._res.target(probe, provider, None)
        except E.CapabilityError:
            if source == "api":
                raise
            if provider is not None and provider not in router.by_name:
                raise
            return None

    def _catalog_provider(self, provider: str | None) -> Provider:
        router = self._client.router
        if provider is not None:
            if provider not in router.by_name:
                raise E.UnknownPlatformError(f"no configured provider named {provider}")
            return router.by_name[provider]
        return router.providers[0]

    def list(self, *, limit: int | None = None, after_id: str | None = None,
             before_id: str | None = None, provider: str | None = None,
             source: Source = "auto", timeout: float | None = None,
             extra_headers: Mapping[str, str] | None = None,
             extra_query: Mapping[str, Any] | None = None) -> AsyncPaginator[ModelInfo]:
        """List models, newest first: ``await`` it for a page, ``async for`` for all.

        .. versionadded:: 0.2
        """
        if limit is not None and (not isinstance(limit, int) or not 1 <= limit <= 1000):
            raise E.InvalidRequest("must be an integer from 1 to 1000", field="limit")
        target = self._target(MODELS_LIST, provider, source)
        query = {"limit": limit, "after_id": after_id, "before_id": before_id,
                 **(extra_query or {})}
        if target is None:
            p = self._catalog_provider(provider)

            async def from_catalog(q: dict[str, Any], _p: str | None) -> AsyncPage[ModelInfo]:
                return AsyncPage(catalog_models(p), has_more=False, provider=p.name)
            return AsyncPaginator(from_catalog, query, p.name)
        fetch = self._res._lister(MODELS_LIST, ModelInfo, extra_headers=extra_headers,
                                  timeout=timeout)
        return AsyncPaginator(fetch, query, target.name)

    async def retrieve(self, model_id: str, *, provider: str | None = None,
                       source: Source = "auto", timeout: float | None = None,
                       extra_headers: Mapping[str, str] | None = None) -> ModelInfo:
        """One model by id or alias; canonical names are mapped to the provider's id.

        .. versionadded:: 0.2
        """
        if not isinstance(model_id, str) or not model_id:
            raise E.InvalidRequest("must be a non-empty string", field="model_id")
        target = self._target(MODELS_RETRIEVE, provider, source)
        if target is None:
            p = self._catalog_provider(provider)
            for info in catalog_models(p):
                if model_id in (info.id, info.display_name):
                    return info
            raise E.NotFoundError(f"model {model_id!r} is not in the catalog for {p.name}",
                                  status=404, error_type="not_found_error", platform=p.name)
        call = make_call(MODELS_RETRIEVE, path={"model_id": target.model_id(model_id)},
                         extra_headers=extra_headers)
        result: ModelInfo = await self._res._run(
            call, json_attempt(object_decoder(ModelInfo)), chosen=target, timeout=timeout)
        return result
