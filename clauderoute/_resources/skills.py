"""``client.skills``: the Skills API and its versions (generally available; ``client.beta.skills``
is the same API that also sends the ``skills-2025-10-02`` beta header, as the SDK's beta
namespace does). A skill is uploaded as its files, each named by its path under one top-level
directory that holds ``SKILL.md``. Versions are addressed by their id or ``latest`` (with the
beta header the API also takes the version's epoch timestamp)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _errors as E
from .._multipart import MultipartBody, Part, file_part
from .._operations import (
    SKILL_VERSIONS_CREATE,
    SKILL_VERSIONS_DELETE,
    SKILL_VERSIONS_LIST,
    SKILL_VERSIONS_RETRIEVE,
    SKILLS_CREATE,
    SKILLS_DELETE,
    SKILLS_LIST,
    SKILLS_RETRIEVE,
)
from ..types._objects import DeletedSkill, DeletedSkillVersion, Skill, SkillVersion
from ._base import Resource, json_attempt, make_call, object_decoder
from ._pages import AsyncPaginator
from .files import workspace_headers

if TYPE_CHECKING:
    from .._client import AsyncClient

__all__ = ["SkillVersions", "Skills"]


def skill_parts(files: Any) -> list[Part]:
    """Form parts from ``files``: a skill directory (every file under it, named
    ``<dir>/<relative path>``), or a list of paths / ``(name, content)`` tuples."""
    if isinstance(files, str | os.PathLike) and Path(files).is_dir():
        root = Path(files)
        files = [(f"{root.name}/{p.relative_to(root).as_posix()}", p)
                 for p in sorted(root.rglob("*")) if p.is_file()]
    if not isinstance(files, Sequence) or isinstance(files, str | bytes) or not files:
        raise E.InvalidRequest("must be a skill directory or a non-empty list of files",
                               field="files")
    parts = [file_part("files[]", f, f"files[{i}]") for i, f in enumerate(files)]
    names = [p.filename or "" for p in parts]
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) != 1 or not any(n.count("/") == 1 and n.endswith("/SKILL.md") for n in names):
        raise E.InvalidRequest("all files must be under one top-level directory holding "
                               "SKILL.md (names like 'my-skill/SKILL.md')", field="files")
    return parts


def _title(display_name: str | None, display_title: str | None) -> list[Part]:
    """The ``display_name`` form field (``display_title`` is its older name)."""
    if display_name is not None and display_title is not None:
        raise E.InvalidRequest("give display_name or display_title (its older name), not both",
                               field="display_name")
    title = display_name if display_name is not None else display_title
    if title is None:
        return []
    field = "display_name" if display_name is not None else "display_title"
    if not isinstance(title, str) or len(title) > 255:
        raise E.InvalidRequest("must be a string of at most 255 characters", field=field)
    return [Part("display_name", data=title.encode())]


def _page_query(limit: int | None, page: str | None, top: int, **more: Any) -> dict[str, Any]:
    if limit is not None and (not isinstance(limit, int) or not 1 <= limit <= top):
        raise E.InvalidRequest(f"must be an integer from 1 to {top}", field="limit")
    return {"limit": limit, "page": page, **more}


class SkillVersions(Resource):
    """``client.skills.versions`` (and ``client.beta.skills.versions``)."""

    async def create(self, skill_id: str, *, files: Any, workspace_id: str | None = None,
                     provider: str | None = None, timeout: float | None = None,
                     betas: Sequence[str] | None = None,
                     extra_headers: Mapping[str, str] | None = None) -> SkillVersion:
        """Upload a new version of a skill. .. versionadded:: 0.2"""
        return await self._upload(
            SKILL_VERSIONS_CREATE, MultipartBody(skill_parts(files)), SkillVersion,
            what="skill upload", path={"skill_id": skill_id}, object_id=skill_id,
            provider=provider, timeout=timeout, betas=betas,
            extra_headers=workspace_headers(workspace_id, extra_headers))

    def list(self, skill_id: str, *, limit: int | None = None, page: str | None = None,
             workspace_id: str | None = None, provider: str | None = None,
             betas: Sequence[str] | None = None,
             extra_headers: Mapping[str, str] | None = None) -> AsyncPaginator[SkillVersion]:
        """A skill's versions, newest first. .. versionadded:: 0.2"""
        query = _page_query(limit, page, 1000)
        path = {"skill_id": skill_id}
        p = self.target(make_call(SKILL_VERSIONS_LIST, path=path, betas=self._with_beta(betas)),
                        provider, skill_id)
        fetch = self._lister(SKILL_VERSIONS_LIST, SkillVersion, path=path, betas=betas,
                             extra_headers=workspace_headers(workspace_id, extra_headers))
        return AsyncPaginator(fetch, query, p.name)

    async def retrieve(self, version: str, *, skill_id: str, workspace_id: str | None = None,
                       provider: str | None = None, betas: Sequence[str] | None = None,
                       extra_headers: Mapping[str, str] | None = None) -> SkillVersion:
        """One version: its id, or ``latest``. .. versionadded:: 0.2"""
        call = make_call(SKILL_VERSIONS_RETRIEVE, path={"skill_id": skill_id, "version": version},
                         betas=self._with_beta(betas),
                         extra_headers=workspace_headers(workspace_id, extra_headers))
        result: SkillVersion = await self._run(call, json_attempt(object_decoder(SkillVersion)),
                                               provider=provider, object_id=skill_id)
        return result

    async def delete(self, version: str, *, skill_id: str, workspace_id: str | None = None,
                     provider: str | None = None, betas: Sequence[str] | None = None,
                     extra_headers: Mapping[str, str] | None = None) -> DeletedSkillVersion:
        """Delete one version. .. versionadded:: 0.2"""
        call = make_call(SKILL_VERSIONS_DELETE, path={"skill_id": skill_id, "version": version},
                         betas=self._with_beta(betas),
                         extra_headers=workspace_headers(workspace_id, extra_headers))
        result: DeletedSkillVersion = await self._run(
            call, json_attempt(object_decoder(DeletedSkillVersion)), provider=provider,
            object_id=skill_id)
        return result


class Skills(Resource):
    """Skills on the provider that holds them (see ``Batches`` for the rule)."""

    def __init__(self, client: AsyncClient, homes: dict[str, str] | None = None,
                 beta: str | None = None) -> None:
        super().__init__(client, homes, beta)
        self.versions = SkillVersions(client, self._homes, beta)

    async def create(self, *, files: Any, display_name: str | None = None,
                     display_title: str | None = None, workspace_id: str | None = None,
                     provider: str | None = None, timeout: float | None = None,
                     betas: Sequence[str] | None = None,
                     extra_headers: Mapping[str, str] | None = None) -> Skill:
        """Create a skill from its files (a directory, or a list; see ``skill_parts``).

        Args:
            files: the skill's files.
            display_name: its label (at most 255 characters; default: the ``name`` of its
                ``SKILL.md``). ``display_title`` is the older name of this argument.
            workspace_id: sent as ``anthropic-workspace-id``.

        .. versionadded:: 0.2
        .. versionchanged:: 0.3 ``display_name``, ``workspace_id``; GA (no beta header).
        """
        # The SDK sends the plain fields before the files (httpx's multipart order).
        parts = [*_title(display_name, display_title), *skill_parts(files)]
        return await self._upload(SKILLS_CREATE, MultipartBody(parts), Skill,
                                  what="skill upload", provider=provider, timeout=timeout,
                                  betas=betas,
                                  extra_headers=workspace_headers(workspace_id, extra_headers))

    def list(self, *, limit: int | None = None, page: str | None = None,
             source: str | None = None, workspace_id: str | None = None,
             provider: str | None = None, betas: Sequence[str] | None = None,
             extra_headers: Mapping[str, str] | None = None) -> AsyncPaginator[Skill]:
        """List skills: ``await`` for a page, ``async for`` for all. .. versionadded:: 0.2"""
        query = _page_query(limit, page, 100, source=source)
        p = self.target(make_call(SKILLS_LIST, betas=self._with_beta(betas)), provider, None)
        fetch = self._lister(SKILLS_LIST, Skill, betas=betas,
                             extra_headers=workspace_headers(workspace_id, extra_headers))
        return AsyncPaginator(fetch, query, p.name)

    async def retrieve(self, skill_id: str, *, workspace_id: str | None = None,
                       provider: str | None = None, betas: Sequence[str] | None = None,
                       extra_headers: Mapping[str, str] | None = None) -> Skill:
        """One skill. .. versionadded:: 0.2"""
        call = make_call(SKILLS_RETRIEVE, path={"skill_id": skill_id},
                         betas=self._with_beta(betas),
                         extra_headers=workspace_headers(workspace_id, extra_headers))
        result: Skill = await self._run(call, json_attempt(object_decoder(Skill)),
                                        provider=provider, object_id=skill_id)
        return result

    async def delete(self, skill_id: str, *, workspace_id: str | None = None,
                     provider: str | None = None, betas: Sequence[str] | None = None,
                     extra_headers: Mapping[str, str] | None = None) -> DeletedSkill:
        """Delete a skill. .. versionadded:: 0.2"""
        call = make_call(SKILLS_DELETE, path={"skill_id": skill_id},
                         betas=self._with_beta(betas),
                         extra_headers=workspace_headers(workspace_id, extra_headers))
        result: DeletedSkill = await self._run(call, json_attempt(object_decoder(DeletedSkill)),
                                               provider=provider, object_id=skill_id)
        self._homes.pop(skill_id, None)
        return result
