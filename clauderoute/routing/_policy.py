"""Routing policies: the order in which a call's candidate providers are tried."""

from __future__ import annotations

from collections.abc import Sequence

from .._provider import Call, Provider

__all__ = ["Failover", "Policy"]


class Policy:
    """Orders the providers able to serve a call; the first is tried first."""

    name = "policy"

    def order(self, providers: Sequence[Provider], call: Call) -> list[Provider]:
        """Candidates in the order to try them."""
        raise NotImplementedError


class Failover(Policy):
    """The configured order: the first provider serves while it is healthy."""

    name = "failover"

    def order(self, providers: Sequence[Provider], call: Call) -> list[Provider]:
        """The configured order, unchanged."""
        return list(providers)
