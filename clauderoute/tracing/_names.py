"""Every attribute and metric name clauderoute emits, for the active convention set.

One place for names: plain string constants, no dependency on
``opentelemetry-semantic-conventions``. The default set is the GenAI conventions v1.41, the last
released GenAI text; ``OTEL_SEMCONV_STABILITY_OPT_IN`` containing ``gen_ai_latest_experimental``
switches the few names that changed in the unreleased GenAI repository.
"""

from __future__ import annotations

import os
from typing import Final

__all__ = ["SCHEMA_URL", "SCOPE", "Names", "convention_from_env"]

SCOPE: Final = "clauderoute"
SCHEMA_URL: Final = "https://opentelemetry.io/schemas/1.41.0"

# --- standard attributes (the same in both sets) ---------------------------------------------
OPERATION: Final = "gen_ai.operation.name"
PROVIDER: Final = "gen_ai.provider.name"
REQUEST_MODEL: Final = "gen_ai.request.model"
REQUEST_STREAM: Final = "gen_ai.request.stream"
MAX_TOKENS: Final = "gen_ai.request.max_tokens"
TEMPERATURE: Final = "gen_ai.request.temperature"
TOP_P: Final = "gen_ai.request.top_p"
TOP_K: Final = "gen_ai.request.top_k"
STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
OUTPUT_TYPE: Final = "gen_ai.output.type"
RESPONSE_ID: Final = "gen_ai.response.id"
RESPONSE_MODEL: Final = "gen_ai.response.model"
FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
TTFC_ATTR: Final = "gen_ai.response.time_to_first_chunk"
INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
CACHE_READ: Final = "gen_ai.usage.cache_read.input_tokens"
TOKEN_TYPE: Final = "gen_ai.token.type"
TOKEN_MODALITY: Final = "gen_ai.token.modality"  # latest set: on the usage counters
SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
INPUT_MESSAGES: Final = "gen_ai.input.messages"
OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
TOOL_DEFINITIONS: Final = "gen_ai.tool.definitions"
DETAILS_EVENT: Final = "gen_ai.client.inference.operation.details"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
ERROR_TYPE: Final = "error.type"
HTTP_STATUS: Final = "http.response.status_code"
CLOUD_REGION: Final = "cloud.region"

# --- ours [ext] -------------------------------------------------------------------------------
X: Final = "clauderoute."
X_OPERATION: Final = X + "operation.name"
X_REQUEST_MODEL: Final = X + "request.model"
X_REQUEST_STREAM: Final = X + "request.stream"
X_STRATEGY: Final = X + "routing.strategy"
X_ATTEMPT_COUNT: Final = X + "attempt.count"
X_RETRY_COUNT: Final = X + "retry.count"
X_FAILOVER_COUNT: Final = X + "failover.count"
X_PLATFORM: Final = X + "platform"
X_DEPLOYMENT: Final = X + "deployment"
X_OUTCOME: Final = X + "outcome"
X_DEADLINE: Final = X + "deadline_s"
X_TTFT: Final = X + "response.time_to_first_token_s"
X_USAGE_IN: Final = X + "usage.input_tokens"
X_USAGE_OUT: Final = X + "usage.output_tokens"
X_ATTEMPT_NUMBER: Final = X + "attempt.number"
X_ATTEMPT_KIND: Final = X + "attempt.kind"
X_ATTEMPT_REASON: Final = X + "attempt.reason"
X_BACKOFF: Final = X + "attempt.backoff_s"
X_RETRY_AFTER: Final = X + "attempt.retry_after_s"
X_ATTEMPT_OUTCOME: Final = X + "attempt.outcome"
X_ERROR_CATEGORY: Final = X + "error.category"
X_ERROR_PHASE: Final = X + "error.phase"
X_TTH: Final = X + "response.time_to_headers_s"
X_STOP_REASON: Final = X + "response.stop_reason"
X_CHUNKS: Final = X + "response.chunk_count"
X_REQUEST_ID: Final = X + "provider.request_id"
X_AUTH_REFRESH: Final = X + "auth.refresh_s"
X_SKIPPED: Final = X + "route.skipped"

# --- extension metrics ------------------------------------------------------------------------
M_ROUTE_DURATION: Final = X + "route.duration"
M_ROUTE_TTFT: Final = X + "route.time_to_first_token"
M_ROUTE_ATTEMPTS: Final = X + "route.attempts"
M_RETRIES: Final = X + "retries"
M_FAILOVERS: Final = X + "failovers"
M_TPOT: Final = X + "attempt.time_per_output_token"
M_CIRCUIT: Final = X + "circuit.state"
M_COST: Final = X + "cost"
M_AFFINITY_HITS: Final = X + "cache_affinity.hits"

# Histogram buckets: duration and token usage as the GenAI client metrics advise, TPOT as the
# GenAI server metric's time per output token; attempts are ours.
DURATION_BUCKETS: Final = tuple(0.01 * 2 ** i for i in range(14))  # 0.01 … 81.92 s
TOKEN_BUCKETS: Final = tuple(4 ** i for i in range(14))  # 1 … 67108864
ATTEMPT_BUCKETS: Final = (1, 2, 3, 4, 5, 6, 8, 10)
TPOT_BUCKETS: Final = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5)


class Names:
    """The names that differ between the convention sets (``v1_41`` or ``latest``)."""

    __slots__ = ("cache_creation", "convention", "duration", "latest", "time_per_chunk",
                 "token_usage", "ttfc")

    def __init__(self, convention: str = "v1_41") -> None:
        if convention not in ("v1_41", "latest"):
            raise ValueError(f"unknown convention set {convention!r}: v1_41 or latest")
        self.convention = convention
        latest = convention == "latest"
        self.cache_creation = ("gen_ai.usage.cache_write.input_tokens" if latest
                               else "gen_ai.usage.cache_creation.input_tokens")
        prefix = "gen_ai.client.inference." if latest else "gen_ai.client.operation."
        self.duration = prefix + "duration"
        self.ttfc = prefix + "time_to_first_chunk"
        self.time_per_chunk = prefix + "time_per_output_chunk"
        # v1.41: one histogram split by gen_ai.token.type. latest (semantic-conventions-genai
        # PR #374): per-operation histograms and usage counters split by gen_ai.token.modality.
        self.latest = latest
        self.token_usage = "gen_ai.client.token.usage"


#: latest set: tokens per operation (histograms) and consumed over time (counters, by modality).
OP_INPUT_TOKENS: Final = "gen_ai.client.inference.operation.input_tokens"
OP_OUTPUT_TOKENS: Final = "gen_ai.client.inference.operation.output_tokens"
USAGE_INPUT: Final = "gen_ai.client.inference.usage.input_tokens"
USAGE_OUTPUT: Final = "gen_ai.client.inference.usage.output_tokens"
USAGE_CACHE_READ: Final = "gen_ai.client.inference.usage.cache_read.input_tokens"
USAGE_CACHE_WRITE: Final = "gen_ai.client.inference.usage.cache_write.input_tokens"


def convention_from_env() -> str:
    """``latest`` when ``OTEL_SEMCONV_STABILITY_OPT_IN`` asks for it, else ``v1_41``."""
    opt_in = os.environ.get("OTEL_SEMCONV_STABILITY_OPT_IN", "")
    wanted = {part.strip() for part in opt_in.split(",")}
    return "latest" if "gen_ai_latest_experimental" in wanted else "v1_41"
