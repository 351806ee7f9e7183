"""The attributes an attempt span gets when the attempt ends (OBSERVABILITY.md §4.4)."""

from __future__ import annotations

from typing import Any

from .. import _errors as E
from ..routing._category import error_category
from ..routing._observe import AttemptContext
from . import _content as C
from . import _names as N

__all__ = ["response_attrs"]


def response_attrs(names: N.Names, ctx: AttemptContext, message: Any, usage: Any,
                   error: BaseException | None, outcome: str) -> dict[str, Any]:
    """Status, timings, response fields, usage and error class of one ended attempt."""
    out: dict[str, Any] = {N.X_ATTEMPT_OUTCOME: outcome}
    stream = ctx.call.operation.endswith("stream")
    if ctx.status is not None:
        out[N.HTTP_STATUS] = ctx.status
    if ctx.headers:
        rid = ctx.headers.get(ctx.provider.request_id_header)
        if rid:
            out[N.X_REQUEST_ID] = rid
    if ctx.prepare_s > 0.0:
        out[N.X_AUTH_REFRESH] = ctx.prepare_s
    if ctx.sent is not None:
        if ctx.headers_at is not None:
            out[N.X_TTH] = ctx.headers_at - ctx.sent
        if ctx.first_chunk is not None:
            out[N.TTFC_ATTR] = ctx.first_chunk - ctx.sent
        if ctx.first_token is not None:
            out[N.X_TTFT] = ctx.first_token - ctx.sent
    if stream:
        out[N.X_CHUNKS] = ctx.chunks
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
        out[N.X_ERROR_CATEGORY] = error_category(error)
        out[N.X_ERROR_PHASE] = ("before_headers" if ctx.status is None else
                                "before_first_token" if ctx.first_token is None else
                                "mid_stream")
        cause = error.cause_error if isinstance(error, E.StreamInterrupted) else error
        retry_after = getattr(cause, "retry_after", None)
        if isinstance(retry_after, (int, float)) and not isinstance(retry_after, bool):
            out[N.X_RETRY_AFTER] = float(retry_after)
    return out
