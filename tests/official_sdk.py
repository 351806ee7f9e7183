"""Where the tests that drive the official Python SDK (``anthropic``) run.

Importing the SDK costs ~2.3 s of CPU (its pydantic models), and under pytest-xdist every worker
imports every test module to collect it. So the modules import the SDK inside the tests and
helpers that call it, never at module level (only for type checking), and those tests carry one
pytest-xdist group: only the worker that runs them imports the SDK. One group, not two (those
that start ``clauderoute serve`` processes had a group of their own): each worker that imports
the SDK pays its import, and the group's ~15 s of CPU (most of its wall time is spent waiting
on the ``serve`` processes, whose CPU the other workers' cores take) still ends before the other
workers run out of tests. A test that imports the SDK without the group still passes; it only
costs its worker the import."""

import pytest

SDK_WORKER = pytest.mark.xdist_group("official-sdk")
