"""``client.beta``: the resources the Claude API offers in beta (Files, Skills)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .files import Files
from .skills import Skills

if TYPE_CHECKING:
    from .._client import AsyncClient

__all__ = ["Beta"]


class Beta:
    """``client.beta.files`` and ``client.beta.skills``."""

    def __init__(self, client: AsyncClient) -> None:
        self.files = Files(client)
        self.skills = Skills(client)
