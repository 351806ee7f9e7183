"""Emulated Files and Skills: ``/v1/files`` and ``/v1/skills``, in memory, generally available
(since 2026-08-19: the beta headers are accepted, not required), in the shapes of the
official SDK's non-beta types (``FileMetadata``, ``Skill``, ``SkillVersion``).

Uploads are read from the multipart stream part by part. The real API lets you download only
files that tools created; here uploads are downloadable too (``downloadable_uploads``), so a
round trip can be tested. ``expires_in_seconds`` sets ``expires_at``; ``file_clock_s`` moves
the emulator's clock forward so that expiry can be tested (an expired file's content answers
404 ``file_expired``, as the SDK's ``FileExpiredError`` expects). A skill upload must hold
``<dir>/SKILL.md`` whose front matter gives ``name`` and ``description``. Versions are
addressed by id, ``latest``, or (as with the beta header) their epoch timestamp.
"""

from __future__ import annotations

import mimetypes
import time
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, web

from clauderoute.provider import (
    FILES_DELETE,
    FILES_DOWNLOAD,
    FILES_LIST,
    FILES_RETRIEVE,
    FILES_UPLOAD,
    SKILL_VERSIONS_CREATE,
    SKILL_VERSIONS_DELETE,
    SKILL_VERSIONS_LIST,
    SKILL_VERSIONS_RETRIEVE,
    SKILLS_CREATE,
    SKILLS_DELETE,
    SKILLS_LIST,
    SKILLS_RETRIEVE,
)

from ._emulator_state import ResourceBase, now

# The Files API's expiry bounds (the official SDK's FileUploadParams docstring).
_EXPIRES = (3600, 7_776_000)

__all__ = ["FilesMixin"]

MB = 1024 * 1024
_CHUNK = 64 * 1024


def _front_matter(text: str) -> dict[str, str]:
    lines = text.splitlines()
    out: dict[str, str] = {}
    if not lines or lines[0].strip() != "---":
        return out
    for line in lines[1:]:
        if line.strip() == "---":
            break
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip().strip("\"'")
    return out


class FilesMixin(ResourceBase):
    """Files and Skills state and handlers."""

    max_file_bytes = 500 * MB
    max_skill_bytes = 30 * MB
    downloadable_uploads = True
    #: seconds the emulator's clock is ahead of the real one (for expiry tests).
    file_clock_s = 0.0

    def init_files(self) -> None:
        self.files: dict[str, dict[str, Any]] = {}
        self.skills: dict[str, dict[str, Any]] = {}
        self._last_epoch = 0
        #: the last multipart form received: (field, filename, content type, size) per part.
        self.last_form: list[tuple[str, str | None, str | None, int]] = []

    def file_routes(self) -> list[web.RouteDef]:
        f, s = "/v1/files", "/v1/skills"
        return [web.post(f, self._file_upload), web.get(f, self._file_list),
                web.get(f + "/{id}", self._file_get), web.delete(f + "/{id}", self._file_delete),
                web.get(f + "/{id}/content", self._file_content),
                web.post(s, self._skill_create), web.get(s, self._skill_list),
                web.get(s + "/{id}", self._skill_get), web.delete(s + "/{id}", self._skill_delete),
                web.post(s + "/{id}/versions", self._version_create),
                web.get(s + "/{id}/versions", self._version_list),
                web.get(s + "/{id}/versions/{v}", self._version_get),
                web.delete(s + "/{id}/versions/{v}", self._version_delete)]

    async def form_reader(self, request: web.Request) -> MultipartReader:
        """The upload's form (an emulator that had to read the body first, to verify a
        signature over it, gives a reader over those bytes instead)."""
        return await request.multipart()

    async def _parts(self, request: web.Request, limit: int
                     ) -> list[tuple[str, str | None, str | None, bytes]] | web.Response:
        """``(name, filename, content type, data)`` of each form part."""
        if not request.content_type.startswith("multipart/"):
            return self.fail(400, "invalid_request_error", "expected multipart/form-data")
        out, total = [], 0
        reader = await self.form_reader(request)
        while (part := await reader.next()) is not None:
            assert isinstance(part, BodyPartReader)
            data = bytearray()
            while chunk := await part.read_chunk(_CHUNK):
                total += len(chunk)
                if total > limit:
                    return self.fail(413, "request_too_large",
                                     "Request exceeds the maximum allowed number of bytes.")
                data += chunk
            out.append((part.name or "", part.filename,
                         part.headers.get("content-type"), bytes(data)))
        self.last_form = [(n, fn, ct, len(d)) for n, fn, ct, d in out]
        return out

    # --- files ----------------------------------------------------------------------------------

    async def _file_upload(self, request: web.Request) -> web.Response:
        if (early := await self.begin(request, FILES_UPLOAD)) is not None:
            return early
        parts = await self._parts(request, self.max_file_bytes)
        if isinstance(parts, web.Response):
            return parts
        found = [p for p in parts if p[0] == "file" and p[1] is not None]
        if not found:
            return self.fail(400, "invalid_request_error", "file: Field required")
        expires = self._expiry(parts)
        if isinstance(expires, web.Response):
            return expires
        _name, filename, ctype, data = found[0]
        filename = (filename or "").rsplit("/", 1)[-1] or "unnamed"
        if not ctype or ctype == "application/octet-stream":
            ctype = mimetypes.guess_type(filename)[0] or ctype or "application/octet-stream"
        meta: dict[str, Any] = {
            "id": self.new_object_id("file_"), "type": "file", "filename": filename,
            "mime_type": ctype, "size_bytes": len(data), "created_at": now(),
            "downloadable": self.downloadable_uploads,
            "expires_at": None if expires is None else now(expires)}
        # ``deadline``: the emulator clock (file_clock_s) at which the content expires.
        deadline = None if expires is None else self.file_clock_s + expires
        self.files = {meta["id"]: {"meta": meta, "data": data, "deadline": deadline},
                      **self.files}
        return self.reply(meta)

    def _expiry(self, parts: list[tuple[str, str | None, str | None, bytes]]
                ) -> int | None | web.Response:
        """``expires_in_seconds`` if the form has it (checked against the API's bounds)."""
        raw = next((d for n, fn, _c, d in parts if n == "expires_in_seconds" and fn is None),
                   None)
        if raw is None:
            return None
        lo, hi = _EXPIRES
        if not raw.isdigit() or not lo <= int(raw) <= hi:
            return self.fail(400, "invalid_request_error",
                             f"expires_in_seconds: must be an integer from {lo} to {hi}")
        return int(raw)

    def _file(self, request: web.Request) -> dict[str, Any] | None:
        return self.files.get(request.match_info["id"])

    async def _file_list(self, request: web.Request) -> web.Response:
        if (early := await self.begin(request, FILES_LIST)) is not None:
            return early
        ids = request.query.getall("ids[]", [])
        if ids:  # the SDK sends ``ids[]=a&ids[]=b``; one page, never a cursor
            found = [self.files[i]["meta"] for i in dict.fromkeys(ids) if i in self.files]
            return self.reply({"data": found, "has_more": False, "next_page": None,
                               "first_id": found[0]["id"] if found else None,
                               "last_id": found[-1]["id"] if found else None})
        return self.page(request, [f["meta"] for f in self.files.values()], cursor=True)

    async def _file_get(self, request: web.Request) -> web.Response:
        if (early := await self.begin(request, FILES_RETRIEVE)) is not None:
            return early
        f = self._file(request)
        return self.reply(f["meta"]) if f else self.not_found("file", request.match_info["id"])

    async def _file_delete(self, request: web.Request) -> web.Response:
        if (early := await self.begin(request, FILES_DELETE)) is not None:
            return early
        f = self.files.pop(request.match_info["id"], None)
        if f is None:
            return self.not_found("file", request.match_info["id"])
        return self.reply({"id": f["meta"]["id"], "type": "file_deleted"})

    async def _file_content(self, request: web.Request) -> web.StreamResponse:
        if (early := await self.begin(request, FILES_DOWNLOAD)) is not None:
            return early
        f = self._file(request)
        if f is None:
            return self.not_found("file", request.match_info["id"])
        if f["deadline"] is not None and self.file_clock_s >= f["deadline"]:
            return self.fail_code(404, "not_found_error", "the file has expired",
                                  "file_expired")
        if not f["meta"]["downloadable"]:
            return self.fail_code(400, "invalid_request_error",
                                  "this file cannot be downloaded", "file_not_downloadable")
        resp = web.StreamResponse(headers=self.response_headers())  # type: ignore[attr-defined]
        resp.content_type = f["meta"]["mime_type"]
        resp.content_length = len(f["data"])
        await resp.prepare(request)
        view = memoryview(f["data"])
        for i in range(0, len(view), _CHUNK):
            await resp.write(bytes(view[i:i + _CHUNK]))
        await resp.write_eof()
        return resp

    # --- skills ---------------------------------------------------------------------------------

    async def _skill_upload(self, request: web.Request, skill: dict[str, Any] | None
                            ) -> tuple[dict[str, Any], str | None] | web.Response:
        """Validate an upload; the new version object and the display title sent."""
        parts = await self._parts(request, self.max_skill_bytes)
        if isinstance(parts, web.Response):
            return parts
        title = next((d.decode() for n, fn, _c, d in parts
                      if n in ("display_name", "display_title") and fn is None), None)
        files = [(fn or "", d) for n, fn, _c, d in parts if n in ("files", "files[]")]
        if not files:
            return self.fail(400, "invalid_request_error", "files: Field required")
        tops = {fn.split("/", 1)[0] for fn, _d in files}
        manifest = [d for fn, d in files if fn.count("/") == 1 and fn.endswith("/SKILL.md")]
        if len(tops) != 1 or not manifest:
            return self.fail(400, "invalid_request_error", "files: all files must be in one "
                             "top-level directory with a SKILL.md file at its root")
        meta = _front_matter(manifest[0].decode("utf-8", "replace"))
        name, desc = meta.get("name") or tops.pop(), meta.get("description")
        if not desc:
            return self.fail(400, "invalid_request_error",
                             "SKILL.md: front matter needs a description")
        if skill is not None and skill["versions"] and name != skill["name"]:
            return self.fail(400, "invalid_request_error",
                             f"SKILL.md: name must stay {skill['name']!r}")
        # The SDK's SkillVersion; the epoch timestamp (the beta's address) is kept beside it.
        version = {"id": self.new_object_id("skillver_"), "type": "skill_version",
                   "skill_id": skill["obj"]["id"] if skill else "", "name": name,
                   "description": desc, "created_at": now()}
        return version, title

    def _epoch(self) -> str:
        """A version's epoch timestamp in microseconds, unique within this emulator."""
        self._last_epoch = max(time.time_ns() // 1000, self._last_epoch + 1)
        return str(self._last_epoch)

    async def _skill_create(self, request: web.Request) -> web.Response:
        if (early := await self.begin(request, SKILLS_CREATE)) is not None:
            return early
        got = await self._skill_upload(request, None)
        if isinstance(got, web.Response):
            return got
        version, title = got
        sid = self.new_object_id("skill_")
        version["skill_id"] = sid
        title = title or version["name"]
        # The SDK's Skill: display_name, latest_version_id, source {"type"}.
        obj = {"id": sid, "type": "skill", "display_name": title,
               "latest_version_id": version["id"], "source": {"type": "custom"},
               "created_at": now(), "updated_at": now()}
        self.skills = {sid: {"obj": obj, "name": version["name"],
                             "versions": {self._epoch(): version}}, **self.skills}
        return self.reply(obj)

    def _skill(self, request: web.Request) -> dict[str, Any] | None:
        return self.skills.get(request.match_info["id"])

    async def _skill_list(self, request: web.Request) -> web.Response:
        if (early := await self.begin(request, SKILLS_LIST)) is not None:
            return early
        items = [s["obj"] for s in self.skills.values()]
        if request.query.get("source"):
            items = [s for s in items if s["source"]["type"] == request.query["source"]]
        return self.page(request, items, cursor=True)

    async def _skill_get(self, request: web.Request) -> web.Response:
        if (early := await self.begin(request, SKILLS_RETRIEVE)) is not None:
            return early
        s = self._skill(request)
        return self.reply(s["obj"]) if s else self.not_found("skill", request.match_info["id"])

    async def _skill_delete(self, request: web.Request) -> web.Response:
        if (early := await self.begin(request, SKILLS_DELETE)) is not None:
            return early
        s = self.skills.pop(request.match_info["id"], None)
        if s is None:
            return self.not_found("skill", request.match_info["id"])
        return self.reply({"id": s["obj"]["id"], "type": "skill_deleted"})

    async def _version_create(self, request: web.Request) -> web.Response:
        if (early := await self.begin(request, SKILL_VERSIONS_CREATE)) is not None:
            return early
        s = self._skill(request)
        if s is None:
            return self.not_found("skill", request.match_info["id"])
        got = await self._skill_upload(request, s)
        if isinstance(got, web.Response):
            return got
        version, _title = got
        s["versions"] = {self._epoch(): version, **s["versions"]}
        s["obj"].update(latest_version_id=version["id"], updated_at=now())
        return self.reply(version)

    async def _version_list(self, request: web.Request) -> web.Response:
        if (early := await self.begin(request, SKILL_VERSIONS_LIST)) is not None:
            return early
        s = self._skill(request)
        if s is None:
            return self.not_found("skill", request.match_info["id"])
        return self.page(request, list(s["versions"].values()), cursor=True)

    def _version(self, request: web.Request) -> tuple[dict[str, Any] | None, str | None]:
        s = self._skill(request)
        if s is None:
            return None, None
        v = request.match_info["v"]
        if v == "latest":
            v = s["obj"]["latest_version_id"]
        key = next((k for k, ver in s["versions"].items() if v in (k, ver["id"])), None)
        return s, key

    async def _version_get(self, request: web.Request) -> web.Response:
        if (early := await self.begin(request, SKILL_VERSIONS_RETRIEVE)):
            return early
        s, key = self._version(request)
        if s is None or key is None:
            return self.not_found("skill version", request.match_info["v"])
        return self.reply(s["versions"][key])

    async def _version_delete(self, request: web.Request) -> web.Response:
        if (early := await self.begin(request, SKILL_VERSIONS_DELETE)):
            return early
        s, key = self._version(request)
        if s is None or key is None:
            return self.not_found("skill version", request.match_info["v"])
        gone = s["versions"].pop(key)
        if s["versions"]:
            latest = next(iter(s["versions"].values()))
            s["obj"].update(latest_version_id=latest["id"])
        return self.reply({"id": gone["id"], "type": "skill_version_deleted"})
