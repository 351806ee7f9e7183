"""The Files and Skills APIs through the gateway, on a provider that has them.

A file or a skill lives on one platform: the library remembers which provider created (or
listed) each id and sends later calls about it there (the pin header overrides). Answers are the
platform's own JSON, forwarded as received, with ``x-clauderoute-provider`` naming where the
object lives. Uploads are spooled to disk within the body limit (``_uploads``); a file's content
is streamed to the client chunk by chunk as it comes from the platform, never held whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web

from .. import _errors as E
from ._errors import error_response
from ._handlers import Refused, fail, options, wire
from ._uploads import spooled_form

if TYPE_CHECKING:
    from .._resources._pages import AsyncPage
    from ._app import Exchange, Gateway

__all__ = ["ROUTES"]

_encode = msgspec.json.Encoder().encode


def _headers(x: Exchange, provider: str | None) -> dict[str, str]:
    x.provider = provider or x.provider
    out = {"request-id": x.rid}
    if x.provider:
        out["x-clauderoute-provider"] = x.provider
    return out


def _json(obj: Any, x: Exchange) -> web.Response:
    return web.Response(
        body=wire(obj),
        content_type="application/json",
        headers=_headers(x, getattr(obj, "provider", None)),
    )


def _page(page: AsyncPage[Any], x: Exchange) -> web.Response:
    """A list answer: the items as sent, and the cursors the platform gave."""
    data = b",".join(wire(item) for item in page.data)
    tail: dict[str, str | bool] = {"has_more": bool(page.has_more)}
    tail.update(
        {
            k: v
            for k, v in (
                ("first_id", page.first_id),
                ("last_id", page.last_id),
                ("next_page", page.next_page),
            )
            if v is not None
        }
    )
    return web.Response(
        body=b'{"data":[' + data + b"]," + _encode(tail)[1:],
        content_type="application/json",
        headers=_headers(x, page.provider),
    )


async def _opts(request: web.Request, x: Exchange, object_id: str | None = None) -> dict[str, Any]:
    """Routing options (pin, betas, version) and the workspace header, forwarded; without a
    pin, where ``object_id`` lives is found first (another worker may have made it)."""
    opts = options(request, x)
    if object_id and "provider" not in opts:
        home = await x.homes.locate(object_id)
        if home is not None:
            opts["provider"] = home
    workspace = request.headers.get("anthropic-workspace-id")
    if workspace:
        opts["extra_headers"] = {
            **opts.get("extra_headers", {}),
            "anthropic-workspace-id": workspace,
        }
    return opts


def _int(request: web.Request, name: str, x: Exchange) -> int | None:
    value = request.query.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise Refused(error_response(400, f"{name}: must be an integer", x.rid)) from None


# --- files ---------------------------------------------------------------------------------


async def files_upload(gw: Gateway, request: web.Request, x: Exchange) -> web.StreamResponse:
    """``POST /v1/files``: the form's ``file`` (and ``expires_in_seconds``)."""
    opts = await _opts(request, x)
    async with spooled_form(gw, request, x) as form:
        files = [f for name, f in form.files if name == "file"]
        if len(files) != 1:
            return error_response(400, "file: the form must carry exactly one file", x.rid)
        expires = form.fields.get("expires_in_seconds")
        try:
            seconds = int(expires) if expires is not None else None
        except ValueError:
            return error_response(400, "expires_in_seconds: must be an integer", x.rid)
        try:
            meta = await x.client.files.upload(file=files[0], expires_in_seconds=seconds, **opts)
        except E.ClauderouteError as exc:
            return fail(exc, x)
    await x.homes.record(meta.id, getattr(meta, "provider", None))
    return _json(meta, x)


async def files_list(gw: Gateway, request: web.Request, x: Exchange) -> web.StreamResponse:
    """``GET /v1/files`` (``limit``, ``page``, ``ids[]``/``ids``, ``after_id``,
    ``before_id``)."""
    q = request.query
    ids = [*q.getall("ids[]", []), *q.getall("ids", [])] or None
    limit = _int(request, "limit", x)
    try:
        page = await x.client.files.list(
            limit=limit,
            ids=ids,
            page=q.get("page"),
            after_id=q.get("after_id"),
            before_id=q.get("before_id"),
            **await _opts(request, x),
        )
    except E.ClauderouteError as exc:
        return fail(exc, x)
    return _page(page, x)


async def files_one(gw: Gateway, request: web.Request, x: Exchange) -> web.StreamResponse:
    """``GET``/``DELETE /v1/files/{file_id}``."""
    files, file_id = x.client.files, request.match_info["file_id"]
    opts = await _opts(request, x, file_id)
    try:
        if request.method == "DELETE":
            obj: Any = await files.delete(file_id, **opts)
        else:
            obj = await files.retrieve_metadata(file_id, **opts)
    except E.ClauderouteError as exc:
        return fail(exc, x)
    return _json(obj, x)


async def files_content(gw: Gateway, request: web.Request, x: Exchange) -> web.StreamResponse:
    """``GET /v1/files/{file_id}/content``: streamed as it arrives (chunked), never buffered.

    A platform that breaks off mid-body leaves the client a body cut short without its end
    (the connection is closed), never one that looks whole."""
    try:
        file_id = request.match_info["file_id"]
        content = await x.client.files.download(file_id, **await _opts(request, x, file_id))
    except E.ClauderouteError as exc:
        return fail(exc, x)
    headers = _headers(x, content.provider)
    headers["content-type"] = content.content_type or "application/octet-stream"
    resp = web.StreamResponse(headers=headers)
    async with content:
        await resp.prepare(request)
        x.status = 200
        try:
            async for chunk in content.iter_bytes():
                await resp.write(chunk)
        except E.ClauderouteError as exc:
            # Headers are sent: close without the body's end, so the client sees a body cut
            # short (aiohttp's own end of the answer then finds the connection closed). The
            # answer is still counted and logged, with the error.
            x.error_type = type(exc).__name__
            if request.transport is not None:
                request.transport.abort()
            return resp
    await resp.write_eof()
    return resp


# --- skills --------------------------------------------------------------------------------


def _skill_files(form: Any, x: Exchange) -> list[tuple[str | None, Any, str | None]]:
    files = [f for name, f in form.files if name in ("files[]", "files")]
    if not files:
        raise Refused(error_response(400, "files: the form must carry the skill's files", x.rid))
    return files


async def skills_create(gw: Gateway, request: web.Request, x: Exchange) -> web.StreamResponse:
    """``POST /v1/skills``: the form's ``files[]`` (and ``display_name``, or
    ``display_title``, its older name)."""
    opts = await _opts(request, x)
    async with spooled_form(gw, request, x) as form:
        title = form.fields.get("display_name", form.fields.get("display_title"))
        try:
            skill = await x.client.skills.create(
                files=_skill_files(form, x), display_name=title, **opts
            )
        except E.ClauderouteError as exc:
            return fail(exc, x)
    await x.homes.record(skill.id, getattr(skill, "provider", None))
    return _json(skill, x)


async def skills_list(gw: Gateway, request: web.Request, x: Exchange) -> web.StreamResponse:
    """``GET /v1/skills`` (``limit``, ``page``, ``source``)."""
    q = request.query
    limit = _int(request, "limit", x)
    try:
        page = await x.client.skills.list(
            limit=limit, page=q.get("page"), source=q.get("source"), **await _opts(request, x)
        )
    except E.ClauderouteError as exc:
        return fail(exc, x)
    return _page(page, x)


async def skills_one(gw: Gateway, request: web.Request, x: Exchange) -> web.StreamResponse:
    """``GET``/``DELETE /v1/skills/{skill_id}``."""
    skills, skill_id = x.client.skills, request.match_info["skill_id"]
    opts = await _opts(request, x, skill_id)
    try:
        if request.method == "DELETE":
            obj: Any = await skills.delete(skill_id, **opts)
        else:
            obj = await skills.retrieve(skill_id, **opts)
    except E.ClauderouteError as exc:
        return fail(exc, x)
    return _json(obj, x)


async def versions_create(gw: Gateway, request: web.Request, x: Exchange) -> web.StreamResponse:
    """``POST /v1/skills/{skill_id}/versions``: the form's ``files[]``."""
    opts = await _opts(request, x, request.match_info["skill_id"])
    async with spooled_form(gw, request, x) as form:
        try:
            version = await x.client.skills.versions.create(
                request.match_info["skill_id"], files=_skill_files(form, x), **opts
            )
        except E.ClauderouteError as exc:
            return fail(exc, x)
    return _json(version, x)


async def versions_list(gw: Gateway, request: web.Request, x: Exchange) -> web.StreamResponse:
    """``GET /v1/skills/{skill_id}/versions`` (``limit``, ``page``)."""
    limit = _int(request, "limit", x)
    try:
        page = await x.client.skills.versions.list(
            request.match_info["skill_id"],
            limit=limit,
            page=request.query.get("page"),
            **await _opts(request, x, request.match_info["skill_id"]),
        )
    except E.ClauderouteError as exc:
        return fail(exc, x)
    return _page(page, x)


async def versions_one(gw: Gateway, request: web.Request, x: Exchange) -> web.StreamResponse:
    """``GET``/``DELETE /v1/skills/{skill_id}/versions/{version}``."""
    versions, m = x.client.skills.versions, request.match_info
    opts = await _opts(request, x, m["skill_id"])
    try:
        if request.method == "DELETE":
            obj: Any = await versions.delete(m["version"], skill_id=m["skill_id"], **opts)
        else:
            obj = await versions.retrieve(m["version"], skill_id=m["skill_id"], **opts)
    except E.ClauderouteError as exc:
        return fail(exc, x)
    return _json(obj, x)


_FILE = "/v1/files/{file_id}"
_SKILL = "/v1/skills/{skill_id}"
_VERSION = _SKILL + "/versions/{version}"

ROUTES = [
    ("POST", "/v1/files", "files.upload", files_upload),
    ("GET", "/v1/files", "files.list", files_list),
    ("GET", _FILE, "files.retrieve_metadata", files_one),
    ("DELETE", _FILE, "files.delete", files_one),
    ("GET", _FILE + "/content", "files.download", files_content),
    ("POST", "/v1/skills", "skills.create", skills_create),
    ("GET", "/v1/skills", "skills.list", skills_list),
    ("GET", _SKILL, "skills.retrieve", skills_one),
    ("DELETE", _SKILL, "skills.delete", skills_one),
    ("POST", _SKILL + "/versions", "skills.versions.create", versions_create),
    ("GET", _SKILL + "/versions", "skills.versions.list", versions_list),
    ("GET", _VERSION, "skills.versions.retrieve", versions_one),
    ("DELETE", _VERSION, "skills.versions.delete", versions_one),
]
