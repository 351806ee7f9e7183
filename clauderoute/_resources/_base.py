"""What every non-Messages resource shares: picking the provider that holds an object and
building the ``Call``; their attempts run through the one pipeline of ``_attempt.py`` (JSON
answer, streamed answer, streamed upload).

Batches, files and skills live on one provider, so these calls never fail over: a call goes to
the pinned provider, else to the one that returned the object, else to the first configured
provider that offers the operation. Retries stay on that provider (the router's ``only``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .. import _errors as E
from .._attempt import Decode, json_attempt, stream_attempt
from .._multipart import MultipartBody
from .._operations import ROUTES
from .._provider import Call, Provider
from .._validate import check_seconds
from ..routing._observe import AttemptContext
from ..types._objects import ApiObject, decode_object
from ._pages import AsyncPage, Fetch, bind, decode_page

if TYPE_CHECKING:
    from .._client import AsyncClient

__all__ = ["Resource", "json_attempt", "make_call", "stream_attempt"]

T = TypeVar("T", bound=ApiObject)


def upload_headers(body: MultipartBody, extra: Mapping[str, str] | None) -> dict[str, str]:
    """The multipart content type (with boundary) and, when known, the content length."""
    headers = {"content-type": body.content_type}
    length = body.length
    if length is not None:
        headers["content-length"] = str(length)
    return {**headers, **(extra or {})}


def check_size(body: MultipartBody, limit: int, what: str) -> None:
    """Refuse a body known to be over ``limit`` before any byte is sent."""
    length = body.length
    if length is not None and length > limit:
        raise E.RequestTooLarge(length, limit, what=what)


def make_call(operation: str, *, path: Mapping[str, str] | None = None,
              query: Mapping[str, Any] | None = None, body: Any = None,
              betas: Sequence[str] | None = None, extra_headers: Mapping[str, str] | None = None,
              extra_query: Mapping[str, Any] | None = None) -> Call:
    """A resource ``Call``: params hold ``path`` values, ``query`` and the JSON ``body``; the
    beta the operation requires joins ``betas``."""
    if betas is not None and (isinstance(betas, str) or
                              not all(isinstance(b, str) for b in betas)):
        raise E.InvalidRequest("must be a list of beta names", field="betas")
    for name, value in (path or {}).items():
        if not isinstance(value, str) or not value:
            raise E.InvalidRequest(f"must be a non-empty string, not {value!r}", field=name)
    all_betas = list(betas or ())
    required = ROUTES[operation][2]
    if required and required not in all_betas:
        all_betas.append(required)
    q = {k: v for k, v in {**(query or {}), **(extra_query or {})}.items() if v is not None}
    return Call(operation=operation, params={"path": dict(path or {}), "query": q, "body": body},
                betas=tuple(all_betas), extra_headers=dict(extra_headers or {}))


def object_decoder(typ: type[T]) -> Decode:
    """``decode(body, provider)`` for one object of ``typ``."""
    return lambda body, provider: decode_object(typ, body, provider)


class Resource:
    """Base of the resources: ``_run`` sends a call to the provider that should serve it."""

    def __init__(self, client: AsyncClient, homes: dict[str, str] | None = None,
                 beta: str | None = None) -> None:
        self._client = client
        #: object id → the provider that holds it (filled from every answer; shared by the GA
        #: and beta namespaces, which address the same objects).
        self._homes = homes if homes is not None else {}
        #: the beta this namespace sends with every call (``client.beta.files``), or ``None``.
        self._beta = beta

    def _with_beta(self, betas: Sequence[str] | None) -> Sequence[str] | None:
        """``betas`` plus this namespace's beta, if it has one."""
        if self._beta is None or (betas is not None and self._beta in betas):
            return betas
        if betas is not None and isinstance(betas, str):
            return betas  # make_call refuses it, naming the field
        return [*(betas or ()), self._beta]

    def target(self, call: Call, provider: str | None, object_id: str | None) -> Provider:
        """The provider for ``call``: pinned, else the object's home, else the first able."""
        router = self._client.router
        name = provider or (self._homes.get(object_id) if object_id else None)
        if name is None:
            for p in router.providers:
                if p.capabilities.missing(call) is None and p.cannot_serve(call) is None:
                    return p
        # Pinned, remembered, or none able: ``plan`` raises CapabilityError (before any
        # network call) naming each provider and what it lacks.
        return router.plan(call, [name] if name is not None else None)[0]

    async def _run(self, call: Call, fn: Callable[[AttemptContext], Any], *,
                   provider: str | None = None, object_id: str | None = None,
                   timeout: float | None = None, deadline: float | None = None,
                   chosen: Provider | None = None) -> Any:
        check_seconds(timeout, "timeout")
        check_seconds(deadline, "deadline")
        p = chosen or self.target(call, provider, object_id)
        if self._client.default_headers:
            call.extra_headers = {**self._client.default_headers, **call.extra_headers}
        result, _route = await self._client.router.run(call, fn, timeout=timeout,
                                                       deadline_s=deadline, only=[p.name])
        if isinstance(result, ApiObject):
            oid = getattr(result, "id", None)
            if isinstance(oid, str):
                self._homes[oid] = p.name
        return result

    async def _upload(self, operation: str, body: MultipartBody, typ: type[T], *, what: str,
                      path: Mapping[str, str] | None = None, object_id: str | None = None,
                      provider: str | None = None, timeout: float | None = None,
                      betas: Sequence[str] | None = None,
                      extra_headers: Mapping[str, str] | None = None) -> T:
        """Stream the multipart ``body`` to the provider that should serve ``operation``;
        refused before any byte is sent when it is known to exceed that provider's limit."""
        call = make_call(operation, path=path, betas=self._with_beta(betas),
                         extra_headers=upload_headers(body, extra_headers))
        p = self.target(call, provider, object_id)
        limit = p.capabilities.body_limit(operation)
        check_size(body, limit, what)
        result: T = await self._run(call, json_attempt(object_decoder(typ), body, limit),
                                    chosen=p, timeout=timeout)
        return result

    def _lister(self, operation: str, typ: type[T], *, path: Mapping[str, str] | None = None,
                betas: Sequence[str] | None = None, extra_headers: Mapping[str, str] | None = None,
                timeout: float | None = None) -> Fetch[T]:
        """A page fetcher for ``operation`` (used by every ``list``)."""
        async def fetch(query: dict[str, Any], provider: str | None) -> AsyncPage[T]:
            call = make_call(operation, path=path, query=query, betas=self._with_beta(betas),
                             extra_headers=extra_headers)
            decode: Decode = lambda body, name: decode_page(typ, body, name)
            page: AsyncPage[T] = await self._run(call, json_attempt(decode), provider=provider,
                                                 timeout=timeout)
            for item in page.data:
                oid = getattr(item, "id", None)
                if isinstance(oid, str) and page.provider is not None:
                    self._homes[oid] = page.provider
            return bind(page, fetch, query)
        return fetch
