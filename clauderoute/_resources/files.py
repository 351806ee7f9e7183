"""``client.files``: the Files API (generally available; ``client.beta.files`` is the same API
that also sends the ``files-api-2025-04-14`` beta header, as the SDK's beta namespace does).
Uploads are streamed from disk as multipart and downloads streamed to disk."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _errors as E
from .._engine import StreamResponse
from .._multipart import MultipartBody, Part, file_part
from .._operations import FILES_DELETE, FILES_DOWNLOAD, FILES_LIST, FILES_RETRIEVE, FILES_UPLOAD
from ..types._objects import DeletedFile, FileMetadata
from ._base import Resource, json_attempt, make_call, object_decoder, stream_attempt
from ._pages import AsyncPaginator

if TYPE_CHECKING:
    from .._client import AsyncClient

__all__ = ["BinaryResponse", "Files"]


class BinaryResponse:
    """A file's content as it streams: ``read()``, ``iter_bytes()`` or ``write_to_file(path)``
    (each consumes it); ``close()`` if you use none of them."""

    def __init__(self, response: StreamResponse, provider: str) -> None:
        self._response = response
        self.provider = provider
        self.headers = response.headers

    @property
    def content_type(self) -> str | None:
        """The ``content-type`` the platform sent."""
        return self.headers.get("content-type")

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """The content, chunk by chunk."""
        try:
            async for chunk in self._response.chunks():
                yield chunk
        finally:
            self._response.release()

    async def read(self) -> bytes:
        """The whole content (for small files)."""
        return b"".join([c async for c in self.iter_bytes()])

    async def write_to_file(self, path: str | os.PathLike[str]) -> int:
        """Stream the content to ``path``; returns the number of bytes written."""
        n = 0
        f = await asyncio.to_thread(Path(path).open, "wb")
        try:
            async for chunk in self.iter_bytes():
                await asyncio.to_thread(f.write, chunk)
                n += len(chunk)
        finally:
            f.close()
        return n

    async def close(self) -> None:
        """Drop the connection without reading."""
        self._response.close()

    async def __aenter__(self) -> BinaryResponse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._response.close()


# The Files API's bounds (the official SDK's FileUploadParams / FileListParams docstrings).
_EXPIRES = (3600, 7_776_000)
_MAX_IDS = 100


def workspace_headers(workspace_id: str | None,
                      extra: Mapping[str, str] | None) -> dict[str, str] | None:
    """``anthropic-workspace-id`` (the SDK's ``workspace_id=``) merged under ``extra``."""
    if workspace_id is None:
        return dict(extra) if extra else None
    if not isinstance(workspace_id, str) or not workspace_id:
        raise E.InvalidRequest("must be a non-empty string", field="workspace_id")
    return {"anthropic-workspace-id": workspace_id, **(extra or {})}


def _expiry_part(expires_in_seconds: int | None) -> list[Part]:
    if expires_in_seconds is None:
        return []
    lo, hi = _EXPIRES
    if (not isinstance(expires_in_seconds, int) or isinstance(expires_in_seconds, bool)
            or not lo <= expires_in_seconds <= hi):
        raise E.InvalidRequest(f"must be an integer from {lo} to {hi}",
                               field="expires_in_seconds")
    return [Part("expires_in_seconds", data=str(expires_in_seconds).encode())]


def _list_query(limit: int | None, ids: Sequence[str] | None, page: str | None,
                after_id: str | None, before_id: str | None) -> dict[str, Any]:
    if limit is not None and (not isinstance(limit, int) or not 1 <= limit <= 1000):
        raise E.InvalidRequest("must be an integer from 1 to 1000", field="limit")
    query: dict[str, Any] = {"limit": limit, "after_id": after_id, "before_id": before_id,
                             "page": page}
    if ids is None:
        return query
    if (isinstance(ids, str) or not all(isinstance(i, str) and i for i in ids)
            or not 1 <= len(set(ids)) <= _MAX_IDS):
        raise E.InvalidRequest(f"must be a list of 1 to {_MAX_IDS} file ids", field="ids")
    if limit is not None or page is not None:
        raise E.InvalidRequest("cannot be combined with limit or page", field="ids")
    # The SDK's query string puts lists as ``ids[]=a&ids[]=b`` (array_format="brackets").
    return {**query, "ids[]": list(ids)}


class Files(Resource):
    """Files on the provider that holds them (see ``Batches`` for the rule)."""

    def __init__(self, client: AsyncClient, homes: dict[str, str] | None = None,
                 beta: str | None = None) -> None:
        super().__init__(client, homes, beta)

    async def upload(self, *, file: Any, expires_in_seconds: int | None = None,
                     workspace_id: str | None = None, provider: str | None = None,
                     timeout: float | None = None, betas: Sequence[str] | None = None,
                     extra_headers: Mapping[str, str] | None = None) -> FileMetadata:
        """Upload a file: a path, bytes, a binary file object, or ``(filename, content[,
        content_type])``. Its content is streamed, never read whole.

        Args:
            file: what to upload.
            expires_in_seconds: seconds until the file expires (3600 to 7776000); its metadata
                then carries ``expires_at``.
            workspace_id: sent as ``anthropic-workspace-id``.

        Raises:
            InvalidRequest: ``file`` is none of those, or a bound is broken (before any
                network call).
            RequestTooLarge: over the provider's limit (500 MB), before any byte is sent.

        .. versionadded:: 0.2
        .. versionchanged:: 0.3 ``expires_in_seconds``, ``workspace_id``; GA (no beta header).
        """
        # The SDK sends the plain fields before the file (httpx's multipart order).
        parts = [*_expiry_part(expires_in_seconds), file_part("file", file, "file")]
        return await self._upload(
            FILES_UPLOAD, MultipartBody(parts), FileMetadata, what="upload", provider=provider,
            timeout=timeout, betas=betas,
            extra_headers=workspace_headers(workspace_id, extra_headers))

    def list(self, *, limit: int | None = None, ids: Sequence[str] | None = None,
             page: str | None = None, after_id: str | None = None,
             before_id: str | None = None, workspace_id: str | None = None,
             provider: str | None = None, timeout: float | None = None,
             betas: Sequence[str] | None = None,
             extra_headers: Mapping[str, str] | None = None) -> AsyncPaginator[FileMetadata]:
        """List files, newest first: ``await`` for a page, ``async for`` for all. Pages follow
        the ``next_page`` cursor (sent back as ``page``); ``ids`` asks for those files only (at
        most 100, one page, not with ``limit`` or ``page``).

        .. versionadded:: 0.2
        .. versionchanged:: 0.3 ``ids``, ``workspace_id``; GA (no beta header).
        """
        query = _list_query(limit, ids, page, after_id, before_id)
        headers = workspace_headers(workspace_id, extra_headers)
        p = self.target(make_call(FILES_LIST, betas=self._with_beta(betas)), provider, None)
        fetch = self._lister(FILES_LIST, FileMetadata, betas=betas, extra_headers=headers,
                             timeout=timeout)
        return AsyncPaginator(fetch, query, p.name)

    async def retrieve_metadata(self, file_id: str, *, workspace_id: str | None = None,
                                provider: str | None = None, timeout: float | None = None,
                                betas: Sequence[str] | None = None,
                                extra_headers: Mapping[str, str] | None = None) -> FileMetadata:
        """A file's metadata. .. versionadded:: 0.2"""
        call = make_call(FILES_RETRIEVE, path={"file_id": file_id},
                         betas=self._with_beta(betas),
                         extra_headers=workspace_headers(workspace_id, extra_headers))
        result: FileMetadata = await self._run(call, json_attempt(object_decoder(FileMetadata)),
                                               provider=provider, object_id=file_id,
                                               timeout=timeout)
        return result

    async def download(self, file_id: str, *, workspace_id: str | None = None,
                       provider: str | None = None, timeout: float | None = None,
                       betas: Sequence[str] | None = None,
                       extra_headers: Mapping[str, str] | None = None) -> BinaryResponse:
        """Open a file's content as a stream. .. versionadded:: 0.2"""
        headers = {"accept": "application/binary",
                   **(workspace_headers(workspace_id, extra_headers) or {})}
        call = make_call(FILES_DOWNLOAD, path={"file_id": file_id},
                         betas=self._with_beta(betas), extra_headers=headers)
        p = self.target(call, provider, file_id)
        response: StreamResponse = await self._run(call, stream_attempt, chosen=p,
                                                   timeout=timeout)
        return BinaryResponse(response, p.name)

    async def delete(self, file_id: str, *, workspace_id: str | None = None,
                     provider: str | None = None, timeout: float | None = None,
                     betas: Sequence[str] | None = None,
                     extra_headers: Mapping[str, str] | None = None) -> DeletedFile:
        """Delete a file. .. versionadded:: 0.2"""
        call = make_call(FILES_DELETE, path={"file_id": file_id},
                         betas=self._with_beta(betas),
                         extra_headers=workspace_headers(workspace_id, extra_headers))
        result: DeletedFile = await self._run(call, json_attempt(object_decoder(DeletedFile)),
                                              provider=provider, object_id=file_id,
                                              timeout=timeout)
        self._homes.pop(file_id, None)
        return result
