"""Where the tests that drive the official Python SDK (``anthropic``) run.

Importing the SDK costs ~2.5 s of CPU (its pydantic models), and under pytest-xdist every worker
imports every test module to collect it. So the modules import the SDK inside the tests and
helpers that call it, never at module level (only for type checking), and those tests carry
``SDK_WORKER``: one pytest-xdist group, run by one worker, the only one that imports the SDK.
A test that imports the SDK without it still passes; it only costs its worker the import."""

import pytest

SDK_WORKER = pytest.mark.xdist_group("official-sdk")
