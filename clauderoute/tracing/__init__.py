"""OpenTelemetry tracing and metrics for routed calls (GenAI semantic conventions v1.41).

``TracingObserver`` watches the router: one ``clauderoute`` route span per call, one standard
GenAI CLIENT span per attempt, and the GenAI and ``clauderoute.*`` metrics. It uses
``opentelemetry-api`` only: with no SDK installed every span is a no-op. Pass it to the client::

    from clauderoute.tracing import TracingObserver
    client = AsyncClient(providers=[...], observers=[TracingObserver(capture_content=True)])

Without one, every client traces through ``default_observer()`` (global providers, settings
from the environment); ``AsyncClient(tracing=False)`` turns that off.

``error.type`` values: the platform's own error code when it sent one (``overloaded_error``,
``rate_limit_error``, ``ThrottlingException``…), else the HTTP status (``"529"``), else
``timeout``, else the exception class name.
"""

from __future__ import annotations

from ._names import SCHEMA_URL, SCOPE, Names
from ._observer import TracingObserver, default_observer, error_type, operation_name

__all__ = ["SCHEMA_URL", "SCOPE", "Names", "TracingObserver", "default_observer", "error_type",
           "operation_name"]
