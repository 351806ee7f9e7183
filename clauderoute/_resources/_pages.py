"""Paginated lists, shaped like the official SDK's ``AsyncPage`` / ``AsyncPaginator``.

``await client.models.list(limit=20)`` gives the first page; ``async for m in
client.models.list()`` walks every item of every page. A page says whether another follows as
the API does: ``has_more`` with ``first_id``/``last_id`` (the next page asks ``after_id`` =
``last_id``, or ``before_id`` = ``first_id`` when listing backwards), or an opaque ``next_page``
cursor (sent back as ``page``). All pages of one listing come from the same provider.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any, Generic, TypeVar

import msgspec

from ..types._objects import ApiObject, decode_object

__all__ = ["AsyncPage", "AsyncPaginator", "decode_page"]

T = TypeVar("T", bound=ApiObject)
#: fetch(query, provider or None) → a page.
Fetch = Callable[[dict[str, Any], "str | None"], Awaitable["AsyncPage[T]"]]


class _WirePage(msgspec.Struct):
    data: list[msgspec.Raw] = msgspec.field(default_factory=list)
    has_more: bool | None = None
    first_id: str | None = None
    last_id: str | None = None
    next_page: str | None = None


_wire_page = msgspec.json.Decoder(_WirePage)


class AsyncPage(Generic[T]):
    """One page of a list: ``data`` and the cursors the API returned."""

    def __init__(self, data: list[T], *, has_more: bool | None = None,
                 first_id: str | None = None, last_id: str | None = None,
                 next_page: str | None = None, provider: str | None = None) -> None:
        self.data = data
        self.has_more = has_more
        self.first_id = first_id
        self.last_id = last_id
        self.next_page = next_page
        self.provider = provider
        self._fetch: Fetch[T] | None = None
        self._query: dict[str, Any] = {}

    def __repr__(self) -> str:
        return (f"<AsyncPage items={len(self.data)} has_more={self.has_more} "
                f"provider={self.provider!r}>")

    def next_page_params(self) -> dict[str, Any] | None:
        """The query that fetches the next page, or ``None`` on the last page."""
        if self.has_more is False:
            return None
        if self.next_page:
            return {"page": self.next_page}
        if self.has_more is None:
            return None
        if "before_id" in self._query:
            return {"before_id": self.first_id} if self.first_id else None
        return {"after_id": self.last_id} if self.last_id else None

    def has_next_page(self) -> bool:
        """Whether another page follows."""
        return self._fetch is not None and self.next_page_params() is not None

    async def get_next_page(self) -> AsyncPage[T]:
        """Fetch the next page (from the same provider)."""
        params = self.next_page_params()
        if params is None or self._fetch is None:
            raise RuntimeError("no next page; check has_next_page() first")
        base = {k: v for k, v in self._query.items()
                if k not in ("after_id", "before_id", "page")}
        return await self._fetch({**base, **params}, self.provider)

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        """This page and every later one."""
        page = self
        yield page
        while page.has_next_page():
            page = await page.get_next_page()
            yield page

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item


def decode_page(typ: type[T], body: bytes, provider: str) -> AsyncPage[T]:
    """A list answer: ``{"data": [...], "has_more", "first_id", "last_id" | "next_page"}``."""
    w = _wire_page.decode(body)
    return AsyncPage([decode_object(typ, raw, provider) for raw in w.data], has_more=w.has_more,
                     first_id=w.first_id, last_id=w.last_id, next_page=w.next_page,
                     provider=provider)


class AsyncPaginator(Generic[T]):
    """What ``list()`` returns: await it for the first page, or iterate it for every item."""

    def __init__(self, fetch: Fetch[T], query: dict[str, Any], provider: str | None) -> None:
        self._fetch = fetch
        self._query = {k: v for k, v in query.items() if v is not None}
        self._provider = provider

    async def _first(self) -> AsyncPage[T]:
        return await self._fetch(self._query, self._provider)

    def __await__(self) -> Generator[Any, None, AsyncPage[T]]:
        return self._first().__await__()

    async def __aiter__(self) -> AsyncIterator[T]:
        page = await self._first()
        async for item in page:
            yield item


def bind(page: AsyncPage[T], fetch: Fetch[T], query: dict[str, Any]) -> AsyncPage[T]:
    """Attach how to fetch the following pages."""
    page._fetch = fetch
    page._query = dict(query)
    return page
