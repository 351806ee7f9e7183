"""Pinned: one provider serves every call; the others are never tried."""

from __future__ import annotations

from collections.abc import Sequence

from .._provider import Call, Provider
from ._policy import Policy

__all__ = ["Pinned"]


class Pinned(Policy):
    """Only ``provider`` (default: the first configured) serves; no failover.

    Args:
        provider: name of the provider to pin to.
    """

    name = "pinned"

    def __init__(self, provider: str | None = None) -> None:
        self.provider = provider

    def order(self, providers: Sequence[Provider], call: Call) -> list[Provider]:
        """The pinned provider alone (retries still apply)."""
        if self.provider is None:
            return list(providers[:1])
        return [p for p in providers if p.name == self.provider]
