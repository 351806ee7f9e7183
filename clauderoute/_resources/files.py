"""``client.beta.files``: the Files API (beta). Uploads are streamed from disk as multipart and
downloads streamed to disk; the ``files-api-2025-04-14`` beta header is added by itself."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _errors as E
from .._engine import StreamResponse
from .._multipart import MultipartBody, file_part
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


class Files(Resource):
    """Files (beta) on the provider that holds them (see ``Batches`` for the rule)."""

    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client)

    async def upload(self, *, file: Any, provider: str | None = None,
                     timeout: float | None = None, betas: Sequence[str] | None = None,
                     extra_headers: Mapping[str, str] | None = None) -> FileMetadata:
        """Upload a file: a path, bytes, a binary file object, or ``(filename, content[,
        content_type])``. Its content is streamed, never read whole.

        Raises:
            InvalidRequest: ``file`` is none of those (before any network call).
            RequestTooLarge: over the provider's limit (500 MB), before any byte is sent.

        .. versionadded:: 0.2
        """
        return await self._upload(
            FILES_UPLOAD, MultipartBody([file_part("file", file, "file")]), FileMetadata,
            what="upload", provider=provider, timeout=timeout, betas=betas,
            extra_headers=extra_headers)

    def list(self, *, limit: int | None = None, after_id: str | None = None,
             before_id: str | None = None, page: str | None = None,
             provider: str | None = None, timeout: float | None = None,
             betas: Sequence[str] | None = None,
             extra_headers: Mapping[str, str] | None = None) -> AsyncPaginator[FileMetadata]:
        """List files, newest first: ``await`` for a page, ``async for`` for all.

        .. versionadded:: 0.2
        """
        if limit is not None and (not isinstance(limit, int) or not 1 <= limit <= 1000):
            raise E.InvalidRequest("must be an integer from 1 to 1000", field="limit")
        p = self.target(make_call(FILES_LIST, betas=betas), provider, None)
        fetch = self._lister(FILES_LIST, FileMetadata, betas=betas, extra_headers=extra_headers,
                             timeout=timeout)
        return AsyncPaginator(fetch, {"limit": limit, "after_id": after_id,
                                      "before_id": before_id, "page": page}, p.name)

    async def retrieve_metadata(self, file_id: str, *, provider: str | None = None,
                                timeout: float | None = None,
                                betas: Sequence[str] | None = None) -> FileMetadata:
        """A file's metadata. .. versionadded:: 0.2"""
        call = make_call(FILES_RETRIEVE, path={"file_id": file_id}, betas=betas)
        result: FileMetadata = await self._run(call, json_attempt(object_decoder(FileMetadata)),
                                               provider=provider, object_id=file_id,
                                               timeout=timeout)
        return result

    async def download(self, file_id: str, *, provider: str | None = None,
                       timeout: float | None = None,
                       betas: Sequence[str] | None = None) -> BinaryResponse:
        """Open a file's content as a stream. .. versionadded:: 0.2"""
        call = make_call(FILES_DOWNLOAD, path={"file_id": file_id}, betas=betas,
                         extra_headers={"accept": "application/binary"})
        p = self.target(call, provider, file_id)
        response: StreamResponse = await self._run(call, stream_attempt, chosen=p,
                                                   timeout=timeout)
        return BinaryResponse(response, p.name)

    async def delete(self, file_id: str, *, provider: str | None = None,
                     timeout: float | None = None,
                     betas: Sequence[str] | None = None) -> DeletedFile:
        """Delete a file. .. versionadded:: 0.2"""
        call = make_call(FILES_DELETE, path={"file_id": file_id}, betas=betas)
        result: DeletedFile = await self._run(call, json_attempt(object_decoder(DeletedFile)),
                                              provider=provider, object_id=file_id,
                                              timeout=timeout)
        self._homes.pop(file_id, None)
        return result
