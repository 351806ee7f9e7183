"""Routing across providers: the router and its policies."""

from ._policy import Failover, Policy
from ._router import AttemptContext, Router, error_category

__all__ = ["AttemptContext", "Failover", "Policy", "Router", "error_category"]
