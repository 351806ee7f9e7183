"""Answer types of the Claude API's resources: models, files and skills.

Every object keeps the JSON it came from: ``extra`` returns the fields this version does not
model, so nothing the API adds is lost; ``provider`` names the configured provider that holds
the object (a batch, a file or a skill lives on one provider: later calls about it go there).
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, TypeVar

import msgspec

__all__ = [
    "ApiObject",
    "DeletedFile",
    "DeletedSkill",
    "DeletedSkillVersion",
    "FileMetadata",
    "ModelInfo",
    "Skill",
    "SkillVersion",
    "decode_object",
]

T = TypeVar("T", bound="ApiObject")
_as_dict = msgspec.json.Decoder(dict[str, Any])


class ApiObject(msgspec.Struct, kw_only=True, dict=True):
    """Base of the resource answer types."""

    @property
    def extra(self) -> dict[str, Any]:
        """Fields the platform sent that this version does not model."""
        raw = self.__dict__.get("_raw")
        if raw is None:
            return {}
        return {k: v for k, v in _as_dict.decode(raw).items() if k not in self.__struct_fields__}

    @property
    def provider(self) -> str | None:
        """The configured provider this object came from (``None`` if not from a call)."""
        return self.__dict__.get("_provider")


@functools.cache
def _decoder(typ: type[Any]) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(typ)


def decode_object(typ: type[T], raw: bytes | msgspec.Raw, provider: str | None = None) -> T:
    """Decode one object of ``typ`` and keep its JSON (for ``extra``)."""
    obj: T = _decoder(typ).decode(raw)
    vars(obj)["_raw"] = bytes(raw)
    if provider is not None:
        vars(obj)["_provider"] = provider
    return obj


class ModelInfo(ApiObject, kw_only=True):
    """A model (``GET /v1/models``).

    ``origin`` is ``"api"`` when the platform listed it, ``"catalog"`` when it comes from
    clauderoute's model catalog because the platform has no Models API (then ``created_at`` is
    unknown and ``id`` is the platform's id for the canonical ``display_name``).
    """

    id: str
    type: str = "model"
    display_name: str = ""
    created_at: datetime | None = None

    @property
    def origin(self) -> str:
        """``"api"`` or ``"catalog"``."""
        return str(self.__dict__.get("_origin", "api"))


class FileMetadata(ApiObject, kw_only=True):
    """An uploaded file (the SDK's ``FileMetadata``). ``expires_at`` is set when it was uploaded
    with ``expires_in_seconds``; after it, the content is gone (``download`` answers 404)."""

    id: str
    type: str = "file"
    filename: str = ""
    mime_type: str = ""
    size_bytes: int = 0
    created_at: datetime | None = None
    downloadable: bool | None = None
    expires_at: datetime | None = None


class DeletedFile(ApiObject, kw_only=True):
    """The answer of a file delete."""

    id: str
    type: str = "file_deleted"


class Skill(ApiObject, kw_only=True):
    """A skill (the SDK's ``Skill``: ``display_name``, ``latest_version_id``, ``source`` as
    ``{"type": "custom" | "anthropic" | ...}``). The beta API named the title
    ``display_title``, the newest version ``latest_version`` and the source a plain string;
    whichever the platform sends is filled (``source_type`` reads either form)."""

    id: str
    type: str = "skill"
    display_title: str | None = None
    display_name: str | None = None
    latest_version: str | None = None
    latest_version_id: str | None = None
    source: Any = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def source_type(self) -> str | None:
        """``"custom"``, ``"anthropic"``, ... from either form of ``source``."""
        src = self.source
        if isinstance(src, dict):
            kind = src.get("type")
            return kind if isinstance(kind, str) else None
        return src if isinstance(src, str) else None


class SkillVersion(ApiObject, kw_only=True):
    """One version of a skill (the SDK's ``SkillVersion``; ``version`` and ``directory`` are
    what the beta API also sent)."""

    id: str
    type: str = "skill_version"
    skill_id: str = ""
    version: str | None = None
    name: str = ""
    description: str = ""
    directory: str | None = None
    created_at: datetime | None = None


class DeletedSkill(ApiObject, kw_only=True):
    """The answer of a skill delete."""

    id: str
    type: str = "skill_deleted"


class DeletedSkillVersion(ApiObject, kw_only=True):
    """The answer of a skill version delete."""

    id: str
    type: str = "skill_version_deleted"
