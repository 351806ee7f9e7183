"""``client.beta.skills``: the Skills API (beta) and its versions; the ``skills-2025-10-02``
beta header is added by itself. A skill is uploaded as its files, each named by its path under
one top-level directory that holds ``SKILL.md``."""

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


class SkillVersions(Resource):
    """``client.beta.skills.versions``."""

    async def create(self, skill_id: str, *, files: Any, provider: str | None = None,
                     timeout: float | None = None, betas: Sequence[str] | None = None,
                     ) -> SkillVersion:
        """Upload a new version of a skill. .. versionadded:: 0.2"""
        return await self._upload(
            SKILL_VERSIONS_CREATE, MultipartBody(skill_parts(files)), SkillVersion,
            what="skill upload", path={"skill_id": skill_id}, object_id=skill_id,
            provider=provider, timeout=timeout, betas=betas)

    def list(self, skill_id: str, *, limit: int | None = None, page: str | None = None,
             provider: str | None = None, betas: Sequence[str] | None = None,
             ) -> AsyncPaginator[SkillVersion]:
        """A skill's versions. .. versionadded:: 0.2"""
        path = {"skill_id": skill_id}
        p = self.target(make_call(SKILL_VERSIONS_LIST, path=path), provider, skill_id)
        fetch = self._lister(SKILL_VERSIONS_LIST, SkillVersion, path=path, betas=betas)
        return AsyncPaginator(fetch, {"limit": limit, "page": page}, p.name)

    async def retrieve(self, version: str, *, skill_id: str, provider: str | None = None,
                       betas: Sequence[str] | None = None) -> SkillVersion:
        """One version. .. versionadded:: 0.2"""
        call = make_call(SKILL_VERSIONS_RETRIEVE, path={"skill_id": skill_id, "version": version},
                         betas=betas)
        result: SkillVersion = await self._run(call, json_attempt(object_decoder(SkillVersion)),
                                               provider=provider, object_id=skill_id)
        return result

    async def delete(self, version: str, *, skill_id: str, provider: str | None = None,
                     betas: Sequence[str] | None = None) -> DeletedSkillVersion:
        """Delete one version. .. versionadded:: 0.2"""
        call = make_call(SKILL_VERSIONS_DELETE, path={"skill_id": skill_id, "version": version},
                         betas=betas)
        result: DeletedSkillVersion = await self._run(
            call, json_attempt(object_decoder(DeletedSkillVersion)), provider=provider,
            object_id=skill_id)
        return result


class Skills(Resource):
    """Skills (beta) on the provider that holds them (see ``Batches`` for the rule)."""

    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client)
        self.versions = SkillVersions(client, self._homes)

    async def create(self, *, files: Any, display_title: str | None = None,
                     provider: str | None = None, timeout: float | None = None,
                     betas: Sequence[str] | None = None,
                     extra_headers: Mapping[str, str] | None = None) -> Skill:
        """Create a skill from its files (a directory, or a list; see ``skill_parts``).

        .. versionadded:: 0.2
        """
        parts = skill_parts(files)
        if display_title is not None:
            if not isinstance(display_title, str) or len(display_title) > 255:
                raise E.InvalidRequest("must be a string of at most 255 characters",
                                       field="display_title")
            parts.insert(0, Part("display_title", data=display_title.encode()))
        return await self._upload(SKILLS_CREATE, MultipartBody(parts), Skill,
                                  what="skill upload", provider=provider, timeout=timeout,
                                  betas=betas, extra_headers=extra_headers)

    def list(self, *, limit: int | None = None, page: str | None = None,
             source: str | None = None, provider: str | None = None,
             betas: Sequence[str] | None = None) -> AsyncPaginator[Skill]:
        """List skills: ``await`` for a page, ``async for`` for all. .. versionadded:: 0.2"""
        if limit is not None and (not isinstance(limit, int) or not 1 <= limit <= 100):
            raise E.InvalidRequest("must be an integer from 1 to 100", field="limit")
        p = self.target(make_call(SKILLS_LIST), provider, None)
        fetch = self._lister(SKILLS_LIST, Skill, betas=betas)
        return AsyncPaginator(fetch, {"limit": limit, "page": page, "source": source}, p.name)

    async def retrieve(self, skill_id: str, *, provider: str | None = None,
                       betas: Sequence[str] | None = None) -> Skill:
        """One skill. .. versionadded:: 0.2"""
        call = make_call(SKILLS_RETRIEVE, path={"skill_id": skill_id}, betas=betas)
        result: Skill = await self._run(call, json_attempt(object_decoder(Skill)),
                                        provider=provider, object_id=skill_id)
        return result

    async def delete(self, skill_id: str, *, provider: str | None = None,
                     betas: Sequence[str] | None = None) -> DeletedSkill:
        """Delete a skill. .. versionadded:: 0.2"""
        call = make_call(SKILLS_DELETE, path={"skill_id": skill_id}, betas=betas)
        result: DeletedSkill = await self._run(call, json_attempt(object_decoder(DeletedSkill)),
                                               provider=provider, object_id=skill_id)
        self._homes.pop(skill_id, None)
        return result

