"""Multipart uploads through the gateway (files, skills, skill versions), spooled to disk.

The client's ``multipart/form-data`` body is read part by part as it arrives and each file part
is written to a temporary file, never held in memory: the bytes counted against the gateway's
body limit (a declared ``Content-Length`` over it is refused before a byte is read; a chunked
body as soon as it passes it) and the whole read bounded by ``body_timeout_s``. The library then
streams those files to the provider as its own multipart upload, with a known length (so
retries can send it again), and the files are removed when the request ends, however it ends.
A file part's name is kept only as the form's ``filename``; it never names anything on disk.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from aiohttp import BodyPartReader, web

from ._errors import error_response
from ._handlers import Refused

if TYPE_CHECKING:
    from ._app import Exchange, Gateway

__all__ = ["Form", "spooled_form"]

#: A plain (non-file) field is a short value (``expires_in_seconds``, ``display_title``).
MAX_FIELD_BYTES = 4096
#: Parts per form: a skill is a directory of files, but not an unbounded number of them.
MAX_PARTS = 1000
_CHUNK = 256 * 1024


@dataclass
class Form:
    """A received form: plain ``fields`` and ``files`` as ``(field name, (filename, path,
    content type))`` in the order sent."""

    fields: dict[str, str] = field(default_factory=dict)
    files: list[tuple[str, tuple[str | None, Path, str | None]]] = field(default_factory=list)


def too_large(limit: int, x: Exchange) -> web.Response:
    resp = error_response(
        413, f"request body is larger than the gateway's limit of {limit} bytes", x.rid
    )
    resp.force_close()  # never read the rest
    return resp


def _bad(message: str, x: Exchange) -> Refused:
    resp = error_response(400, message, x.rid)
    resp.force_close()  # the rest of the body is not read
    return Refused(resp)


class _Budget:
    """Bytes left under the body limit, shared by every part of one form."""

    def __init__(self, limit: int, x: Exchange) -> None:
        self.limit, self.left, self.x = limit, limit, x

    def take(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise Refused(too_large(self.limit, self.x))


async def _read_field(part: BodyPartReader, name: str, budget: _Budget, x: Exchange) -> str:
    buf = bytearray()
    while chunk := await part.read_chunk(_CHUNK):
        budget.take(len(chunk))
        buf += chunk
        if len(buf) > MAX_FIELD_BYTES:
            raise _bad(f"{name[:60]}: a form field of at most {MAX_FIELD_BYTES} bytes", x)
    try:
        return buf.decode()
    except UnicodeDecodeError:
        raise _bad(f"{name[:60]}: not UTF-8 text", x) from None


async def _write_file(part: BodyPartReader, path: Path, budget: _Budget) -> None:
    f: IO[bytes] = await asyncio.to_thread(path.open, "wb")
    try:
        while chunk := await part.read_chunk(_CHUNK):
            budget.take(len(chunk))
            await asyncio.to_thread(f.write, chunk)
    finally:
        await asyncio.to_thread(f.close)


async def _receive(request: web.Request, x: Exchange, budget: _Budget, where: Path) -> Form:
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError, KeyError):  # aiohttp's refusals of a non-form body
        raise _bad("the request body must be multipart/form-data", x) from None
    form = Form()
    for n in range(MAX_PARTS + 1):
        part = await reader.next()
        if part is None:
            return form
        if n == MAX_PARTS:
            raise _bad(f"a form of at most {MAX_PARTS} parts", x)
        if not isinstance(part, BodyPartReader) or not part.name:
            raise _bad("every form part must be a named field (no nested multipart)", x)
        if part.filename is None:
            form.fields[part.name] = await _read_field(part, part.name, budget, x)
            continue
        path = where / f"part-{n}"
        await _write_file(part, path, budget)
        ctype = part.headers.get("content-type")
        form.files.append((part.name, (part.filename, path, ctype)))
    return form  # pragma: no cover (the loop returns or raises)


@asynccontextmanager
async def spooled_form(gw: Gateway, request: web.Request, x: Exchange) -> AsyncIterator[Form]:
    """The request's form, its files on disk until the block ends; ``Refused`` (413, 408 or
    400, the connection closed after it) when the body is too large, too slow or no form."""
    limit = gw.settings.max_body_bytes
    declared = request.content_length
    if declared is not None and declared > limit:
        raise Refused(too_large(limit, x))
    where = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="clauderoute-gw-"))
    try:
        try:
            async with asyncio.timeout(gw.settings.body_timeout_s):
                form = await _receive(request, x, _Budget(limit, x), where)
        except TimeoutError:
            resp = error_response(
                408,
                "the request body did not arrive in time",
                x.rid,
                error_type="invalid_request_error",
            )
            resp.force_close()
            raise Refused(resp) from None
        except ValueError as exc:  # aiohttp: a malformed part (bad boundary, headers)
            raise _bad(f"malformed multipart body: {str(exc)[:200]}", x) from None
        yield form
    finally:
        await asyncio.to_thread(shutil.rmtree, where, True)
