"""The attributes an attempt span gets when the attempt ends."""

from __future__ import annotations

from typing import Any

from ..routing._observe import AttemptRecord
from . import _content as C
from . import _names as N

__all__ = ["response_attrs"]


def response_attrs(names: N.Names, record: AttemptRecord) -> dict[str, Any]:
    """Status, timings, response fields, usage and error class of one ended attempt."""
    outcome, message, usage, error = (record.outcome, record.result, record.usage,
                                      record.exception)
    out: dict[str, Any] = {N.X_ATTEMPT_OUTCOME: outcome}
    stream = record.operation.endswith("stream")
    if record.status is not None:
        out[N.HTTP_STATUS] = record.status
    if record.request_id:
        out[N.X_REQUEST_ID] = record.request_id
    if record.prepare_s > 0.0:
        out[N.X_AUTH_REFRESH] = record.prepare_s
    if record.headers_s is not None:
        out[N.X_TTH] = record.headers_s
    if record.first_chunk_s is not None:
        out[N.TTFC_ATTR] = record.first_chunk_s
    if record.ttft_s is not None:
        out[N.X_TTFT] = record.ttft_s
    if stream:
        out[N.X_CHUNKS] = record.chunks
    if message is not None and hasattr(message, "stop_reason"):
        if getattr(message, "id", None):
            out[N.RESPONSE_ID] = message.id
        if getattr(message, "model", None):
            out[N.RESPONSE_MODEL] = message.model
        if message.stop_reason:
            out[N.X_STOP_REASON] = message.stop_reason
        out[N.FINISH_REASONS] = [C.finish_reason(message.stop_reason)]
    if outcome == "cancelled" or (N.FINISH_REASONS not in out and (stream or error)):
        out[N.FINISH_REASONS] = ["error"]  # ended before the caller saw why it stopped
    if usage is not None:
        out[N.INPUT_TOKENS] = usage.total_input_tokens
        out[N.OUTPUT_TOKENS] = usage.output_tokens
        if usage.cache_read_input_tokens is not None:
            out[N.CACHE_READ] = usage.cache_read_input_tokens
        if usage.cache_creation_input_tokens is not None:
            out[names.cache_creation] = usage.cache_creation_input_tokens
    if error is not None:
        out[N.X_ERROR_CATEGORY] = record.error_category
        out[N.X_ERROR_PHASE] = ("before_headers" if record.headers_s is None and
                                record.status is None else
                                "before_first_token" if record.ttft_s is None else
                                "mid_stream")
        if record.retry_after_s is not None:
            out[N.X_RETRY_AFTER] = record.retry_after_s
    return out
