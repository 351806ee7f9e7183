"""``client.beta``: the beta namespaces of the Claude API, as the official SDK keeps them.

Files and Skills are generally available (``client.files``, ``client.skills``); their beta
namespaces stay for code written against them and send the beta header as the SDK's do. Both
namespaces address the same objects, so they share which provider holds each one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._operations import FILES_BETA, SKILLS_BETA
from .files import Files
from .skills import Skills

if TYPE_CHECKING:
    from .._client import AsyncClient

__all__ = ["Beta"]


class Beta:
    """``client.beta.files`` and ``client.beta.skills``."""

    def __init__(self, client: AsyncClient) -> None:
        self.files = Files(client, client.files._homes, FILES_BETA)
        self.skills = Skills(client, client.skills._homes, SKILLS_BETA)
