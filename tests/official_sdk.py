"""Where the tests that drive the official Python SDK (``anthropic``) run.

Importing the SDK costs ~2.5 s of CPU (its pydantic models), and under pytest-xdist every worker
imports every test module to collect it. So the modules import the SDK inside the tests and
helpers that call it, never at module level (only for type checking), and those tests carry one
of two pytest-xdist groups: only the two workers that run them import the SDK. Two, not one:
together they are ~30 s of a ~60 s run on 2 cores, and one group would leave its worker little
else. They split where the tests start ``clauderoute serve`` processes (~16 s; the rest, with the
benchmark smoke tests, ~15 s). A test that imports the SDK without either still passes; it only
costs its worker the import."""

import pytest

SDK_WORKER = pytest.mark.xdist_group("official-sdk")
SDK_SERVE_WORKER = pytest.mark.xdist_group("official-sdk-serve")  # with `clauderoute serve`
