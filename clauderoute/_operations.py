"""Resource operations of the Claude API beyond Messages: names, wire routes and betas.

The names are the keys of ``Capabilities.operations``: a provider serves a resource only if it
lists the name. ``ROUTES`` holds each one's HTTP method, path template (relative to the API
root, filled from ``Call.params["path"]``) and the beta the API requires for it (none today:
Files and Skills are generally available since 2026-08-19, and the official SDK has non-beta
``client.files`` and ``client.skills``; their beta names remain for ``client.beta.files``/
``client.beta.skills``, which send them as the SDK's beta namespaces do). ``FILE_REFERENCE`` and ``SKILL_REFERENCE`` are not calls: a Messages
request that names an uploaded file or a skill *needs* them (``Call.needs``), so the router
skips providers that could not resolve the reference; no beta is needed for them any more.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BATCHES_CANCEL",
    "BATCHES_CREATE",
    "BATCHES_DELETE",
    "BATCHES_LIST",
    "BATCHES_RESULTS",
    "BATCHES_RETRIEVE",
    "FILES_BETA",
    "FILES_DELETE",
    "FILES_DOWNLOAD",
    "FILES_LIST",
    "FILES_RETRIEVE",
    "FILES_UPLOAD",
    "FILE_REFERENCE",
    "MODELS_LIST",
    "MODELS_RETRIEVE",
    "ROUTES",
    "SKILLS_BETA",
    "SKILLS_CREATE",
    "SKILLS_DELETE",
    "SKILLS_LIST",
    "SKILLS_RETRIEVE",
    "SKILL_REFERENCE",
    "SKILL_VERSIONS_CREATE",
    "SKILL_VERSIONS_DELETE",
    "SKILL_VERSIONS_LIST",
    "SKILL_VERSIONS_RETRIEVE",
    "needs_of",
    "referenced_ids",
]

MODELS_LIST = "models.list"
MODELS_RETRIEVE = "models.retrieve"
BATCHES_CREATE = "batches.create"
BATCHES_RETRIEVE = "batches.retrieve"
BATCHES_LIST = "batches.list"
BATCHES_CANCEL = "batches.cancel"
BATCHES_DELETE = "batches.delete"
BATCHES_RESULTS = "batches.results"
FILES_UPLOAD = "files.upload"
FILES_LIST = "files.list"
FILES_RETRIEVE = "files.retrieve_metadata"
FILES_DOWNLOAD = "files.download"
FILES_DELETE = "files.delete"
SKILLS_CREATE = "skills.create"
SKILLS_LIST = "skills.list"
SKILLS_RETRIEVE = "skills.retrieve"
SKILLS_DELETE = "skills.delete"
SKILL_VERSIONS_CREATE = "skills.versions.create"
SKILL_VERSIONS_LIST = "skills.versions.list"
SKILL_VERSIONS_RETRIEVE = "skills.versions.retrieve"
SKILL_VERSIONS_DELETE = "skills.versions.delete"
FILE_REFERENCE = "messages.file_reference"
SKILL_REFERENCE = "messages.skill_reference"

# The beta names of the Files and Skills endpoints before they were generally available; the
# beta namespaces still send them (the official SDK's ``client.beta.files`` does).
FILES_BETA = "files-api-2025-04-14"
SKILLS_BETA = "skills-2025-10-02"

_SKILL = "/v1/skills/{skill_id}"
_BATCH = "/v1/messages/batches/{batch_id}"

#: operation → (method, path template, required beta or ``None``).
ROUTES: dict[str, tuple[str, str, str | None]] = {
    MODELS_LIST: ("GET", "/v1/models", None),
    MODELS_RETRIEVE: ("GET", "/v1/models/{model_id}", None),
    BATCHES_CREATE: ("POST", "/v1/messages/batches", None),
    BATCHES_LIST: ("GET", "/v1/messages/batches", None),
    BATCHES_RETRIEVE: ("GET", _BATCH, None),
    BATCHES_CANCEL: ("POST", _BATCH + "/cancel", None),
    BATCHES_DELETE: ("DELETE", _BATCH, None),
    BATCHES_RESULTS: ("GET", _BATCH + "/results", None),
    FILES_UPLOAD: ("POST", "/v1/files", None),
    FILES_LIST: ("GET", "/v1/files", None),
    FILES_RETRIEVE: ("GET", "/v1/files/{file_id}", None),
    FILES_DOWNLOAD: ("GET", "/v1/files/{file_id}/content", None),
    FILES_DELETE: ("DELETE", "/v1/files/{file_id}", None),
    SKILLS_CREATE: ("POST", "/v1/skills", None),
    SKILLS_LIST: ("GET", "/v1/skills", None),
    SKILLS_RETRIEVE: ("GET", _SKILL, None),
    SKILLS_DELETE: ("DELETE", _SKILL, None),
    SKILL_VERSIONS_CREATE: ("POST", _SKILL + "/versions", None),
    SKILL_VERSIONS_LIST: ("GET", _SKILL + "/versions", None),
    SKILL_VERSIONS_RETRIEVE: ("GET", _SKILL + "/versions/{version}", None),
    SKILL_VERSIONS_DELETE: ("DELETE", _SKILL + "/versions/{version}", None),
}


def _has_file_ref(value: Any) -> bool:
    if isinstance(value, dict):
        src = value.get("source")
        if isinstance(src, dict) and src.get("type") == "file":
            return True
        content = value.get("content")
        return (src is not None and _has_file_ref(src)) or (
            content is not None and type(content) is not str and _has_file_ref(content))
    if isinstance(value, list):
        return any(_has_file_ref(v) for v in value)
    return False


def _file_ids(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        src = value.get("source")
        if isinstance(src, dict):
            if src.get("type") == "file" and isinstance(src.get("file_id"), str):
                out.append(src["file_id"])
            else:
                _file_ids(src, out)
        content = value.get("content")
        if content is not None and type(content) is not str:
            _file_ids(content, out)
    elif isinstance(value, list):
        for v in value:
            _file_ids(v, out)


def referenced_ids(params: dict[str, Any], needs: tuple[str, ...]) -> list[str]:
    """The ids of uploaded objects a Messages request names: file ids in its content blocks and
    the ids of custom skills in ``container.skills`` (Anthropic's own skills exist everywhere)."""
    out: list[str] = []
    if FILE_REFERENCE in needs:
        _file_ids(params.get("messages"), out)
    if SKILL_REFERENCE in needs:
        for skill in params["container"]["skills"]:
            if isinstance(skill, dict) and skill.get("type") == "custom" and \
                    isinstance(skill.get("skill_id"), str):
                out.append(skill["skill_id"])
    return out


def needs_of(params: dict[str, Any], plain: bool = False) -> tuple[str, ...]:
    """What a Messages request needs beyond Messages: a file reference (a block whose source is
    ``{"type": "file", "file_id": ...}``) or skills (``container.skills``). ``plain``: its
    messages are known to be plain text (``validate_create`` said so): none is read."""
    msgs = params.get("messages")
    if plain:
        files = False
    elif isinstance(msgs, list):  # skip the plain-text messages without a lookup more
        files = False
        for m in msgs:
            if type(m) is dict and type(m.get("content")) is str and "source" not in m:
                continue
            if _has_file_ref(m):
                files = True
                break
    else:
        files = _has_file_ref(msgs)
    container = params.get("container")
    if not (files or container):  # the usual request: no list built and thrown away
        return ()
    out: list[str] = [FILE_REFERENCE] if files else []
    if isinstance(container, dict) and container.get("skills"):
        out.append(SKILL_REFERENCE)
    return tuple(out)
