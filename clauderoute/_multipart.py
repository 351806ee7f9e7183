"""``multipart/form-data`` bodies streamed from files, never held in memory whole.

``Part`` describes one field; ``MultipartBody`` yields the encoded body chunk by chunk (file
contents read in ``CHUNK`` pieces off the event loop) and knows its length beforehand when every
part's size is known, so the request carries a ``content-length`` rather than chunked encoding.
A body can be iterated again for a retry as long as its files can be reopened or rewound.
"""

from __future__ import annotations

import asyncio
import io
import mimetypes
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

from ._errors import InvalidRequest, RequestTooLarge

__all__ = ["MultipartBody", "Part", "file_part"]

CHUNK = 256 * 1024


class Part:
    """One form field: a plain value (``data`` bytes) or a file (path or binary file object)."""

    def __init__(self, name: str, *, data: bytes | None = None, path: Path | None = None,
                 fileobj: IO[bytes] | None = None, filename: str | None = None,
                 content_type: str | None = None) -> None:
        self.name, self.data, self.path, self.fileobj = name, data, path, fileobj
        self.filename = filename
        self.content_type = content_type
        self._start = fileobj.tell() if fileobj is not None and fileobj.seekable() else None

    @property
    def size(self) -> int | None:
        """Content length, or ``None`` for a file object that cannot seek."""
        if self.data is not None:
            return len(self.data)
        if self.path is not None:
            return self.path.stat().st_size
        assert self.fileobj is not None
        if self._start is None:
            return None
        end = self.fileobj.seek(0, io.SEEK_END)
        self.fileobj.seek(self._start)
        return end - self._start

    def head(self, boundary: str) -> bytes:
        disp = f'form-data; name="{_quote(self.name)}"'
        if self.filename is not None:
            disp += f'; filename="{_quote(self.filename)}"'
        lines = [f"--{boundary}", f"Content-Disposition: {disp}"]
        if self.content_type:
            lines.append(f"Content-Type: {self.content_type}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def chunks(self) -> AsyncIterator[bytes]:
        if self.data is not None:
            yield self.data
            return
        if self.path is not None:
            f: IO[bytes] = await asyncio.to_thread(self.path.open, "rb")
        else:
            assert self.fileobj is not None
            f = self.fileobj
            if self._start is not None:
                f.seek(self._start)
        try:
            while chunk := await asyncio.to_thread(f.read, CHUNK):
                yield chunk
        finally:
            if self.path is not None:
                f.close()


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "")


def file_part(name: str, file: Any, field: str) -> Part:
    """A file field from what the SDK accepts: a path, bytes, a binary file object, or a tuple
    ``(filename, content[, content_type])`` whose content is one of those."""
    filename: str | None = None
    ctype: str | None = None
    if isinstance(file, tuple):
        if not 2 <= len(file) <= 3 or not isinstance(file[0], str | None):
            raise InvalidRequest("must be (filename, content[, content_type])", field=field)
        ctype = file[2] if len(file) == 3 else None
        filename, file = file[0], file[1]
    return _part(name, file, filename, ctype, field)


def _part(name: str, file: Any, filename: str | None, ctype: str | None, field: str) -> Part:
    if isinstance(file, str | os.PathLike):
        path = Path(file)
        if not path.is_file():
            raise InvalidRequest(f"no such file: {path}", field=field)
        filename = filename or path.name
        return Part(name, path=path, filename=filename, content_type=ctype or _guess(filename))
    if isinstance(file, bytes | bytearray | memoryview):
        filename = filename or "upload"
        return Part(name, data=bytes(file), filename=filename,
                    content_type=ctype or _guess(filename))
    if hasattr(file, "read"):
        filename = filename or os.path.basename(str(getattr(file, "name", "") or "upload"))
        return Part(name, fileobj=file, filename=filename, content_type=ctype or _guess(filename))
    raise InvalidRequest("must be a path, bytes, a binary file object or a "
                         "(filename, content[, content_type]) tuple", field=field)


def _guess(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


class MultipartBody:
    """The encoded form: ``content_type`` (with its boundary), ``length`` (or ``None``), and
    ``stream()`` for the bytes. ``limit`` stops a body of unknown size that grows past it."""

    def __init__(self, parts: list[Part]) -> None:
        self.parts = parts
        self.boundary = "clauderoute-" + secrets.token_hex(12)
        self.content_type = f"multipart/form-data; boundary={self.boundary}"

    @property
    def replayable(self) -> bool:
        """Whether ``stream()`` can run again (for a retry): no part is an unseekable file."""
        return all(p.fileobj is None or p._start is not None for p in self.parts)

    @property
    def length(self) -> int | None:
        total = len(self._end())
        for p in self.parts:
            size = p.size
            if size is None:
                return None
            total += len(p.head(self.boundary)) + size + 2
        return total

    def _end(self) -> bytes:
        return f"--{self.boundary}--\r\n".encode()

    async def stream(self, limit: int | None = None) -> AsyncIterator[bytes]:
        sent = 0
        for p in self.parts:
            yield p.head(self.boundary)
            async for chunk in p.chunks():
                sent += len(chunk)
                if limit is not None and sent > limit:
                    raise RequestTooLarge(sent, limit, what="upload")
                yield chunk
            yield b"\r\n"
        yield self._end()
