"""Message Batches: the batch object and its typed JSONL results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from ._messages import Message, decode_message
from ._objects import ApiObject

__all__ = [
    "DeletedMessageBatch",
    "MessageBatch",
    "MessageBatchCanceledResult",
    "MessageBatchErroredResult",
    "MessageBatchExpiredResult",
    "MessageBatchIndividualResponse",
    "MessageBatchRequestCounts",
    "MessageBatchResult",
    "MessageBatchSucceededResult",
    "UnknownBatchResult",
    "decode_result_line",
]


class MessageBatchRequestCounts(msgspec.Struct, kw_only=True):
    """How many requests of a batch are in each state."""

    processing: int = 0
    succeeded: int = 0
    errored: int = 0
    canceled: int = 0
    expired: int = 0


class MessageBatch(ApiObject, kw_only=True):
    """A Message Batch: ``processing_status`` is ``in_progress``, ``canceling`` or ``ended``."""

    id: str
    type: str = "message_batch"
    processing_status: str = "in_progress"
    request_counts: MessageBatchRequestCounts = msgspec.field(
        default_factory=MessageBatchRequestCounts)
    created_at: datetime | None = None
    expires_at: datetime | None = None
    ended_at: datetime | None = None
    archived_at: datetime | None = None
    cancel_initiated_at: datetime | None = None
    results_url: str | None = None


class DeletedMessageBatch(ApiObject, kw_only=True):
    """The answer of a batch delete."""

    id: str
    type: str = "message_batch_deleted"


class MessageBatchSucceededResult(msgspec.Struct, kw_only=True):
    """The request ran: its ``Message``."""

    message: Message
    type: str = "succeeded"


class MessageBatchErroredResult(msgspec.Struct, kw_only=True):
    """The request failed: the Claude API's error object (``error.type``, ``error.message``)."""

    error: dict[str, Any]
    type: str = "errored"

    @property
    def error_type(self) -> str | None:
        """The inner error type (``invalid_request_error``…)."""
        inner = self.error.get("error", self.error)
        return inner.get("type") if isinstance(inner, dict) else None


class MessageBatchCanceledResult(msgspec.Struct, kw_only=True):
    """The batch was canceled before this request ran."""

    type: str = "canceled"


class MessageBatchExpiredResult(msgspec.Struct, kw_only=True):
    """The batch expired before this request ran."""

    type: str = "expired"


class UnknownBatchResult(msgspec.Struct, kw_only=True):
    """A result type this version does not know, kept whole in ``data``."""

    type: str
    data: dict[str, Any]


MessageBatchResult = (MessageBatchSucceededResult | MessageBatchErroredResult
                      | MessageBatchCanceledResult | MessageBatchExpiredResult
                      | UnknownBatchResult)


class MessageBatchIndividualResponse(ApiObject, kw_only=True):
    """One line of a batch's results."""

    custom_id: str
    result: MessageBatchResult


class _WireResult(msgspec.Struct):
    type: str
    message: msgspec.Raw = msgspec.Raw(b"")  # Raw cannot be Optional: empty when absent
    error: dict[str, Any] | None = None


class _WireLine(msgspec.Struct):
    custom_id: str
    result: msgspec.Raw


_line = msgspec.json.Decoder(_WireLine)
_result = msgspec.json.Decoder(_WireResult)
_as_dict = msgspec.json.Decoder(dict[str, Any])


def decode_result_line(raw: bytes) -> MessageBatchIndividualResponse:
    """Decode one JSONL line of batch results."""
    w = _line.decode(raw)
    r = _result.decode(w.result)
    result: MessageBatchResult
    if r.type == "succeeded" and len(r.message):
        result = MessageBatchSucceededResult(message=decode_message(r.message))
    elif r.type == "errored" and r.error is not None:
        result = MessageBatchErroredResult(error=r.error)
    elif r.type == "canceled":
        result = MessageBatchCanceledResult()
    elif r.type == "expired":
        result = MessageBatchExpiredResult()
    else:
        result = UnknownBatchResult(type=r.type, data=_as_dict.decode(w.result))
    out = MessageBatchIndividualResponse(custom_id=w.custom_id, result=result)
    vars(out)["_raw"] = bytes(raw)
    return out
