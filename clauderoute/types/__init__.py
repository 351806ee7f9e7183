"""Wire types of the Messages API (answers, content blocks, stream events) and of the other
resources (models, batches, files, skills).

Requests are written as plain dicts (as in the official SDK) and validated before sending; the
answer side is typed. Unknown block, delta and event types are kept as ``Unknown*`` objects.
"""

from typing import TYPE_CHECKING, Any

from ._content import (
    ContentBlock,
    RedactedThinkingBlock,
    ServerToolUseBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    UnknownBlock,
    WebSearchToolResultBlock,
)
from ._messages import AttemptInfo, Message, MessageTokensCount, RouteInfo, Usage
from ._stream import (
    CitationsDelta,
    ContentBlockDeltaEvent,
    ContentBlockStartEvent,
    ContentBlockStopEvent,
    ErrorEvent,
    InputJSONDelta,
    MessageDelta,
    MessageDeltaEvent,
    MessageStartEvent,
    MessageStopEvent,
    PingEvent,
    SignatureDelta,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    UnknownDelta,
    UnknownEvent,
)

if TYPE_CHECKING:
    from ._batches import (
        DeletedMessageBatch,
        MessageBatch,
        MessageBatchCanceledResult,
        MessageBatchErroredResult,
        MessageBatchExpiredResult,
        MessageBatchIndividualResponse,
        MessageBatchRequestCounts,
        MessageBatchResult,
        MessageBatchSucceededResult,
        UnknownBatchResult,
    )
    from ._objects import (
        ApiObject,
        DeletedFile,
        DeletedSkill,
        DeletedSkillVersion,
        FileMetadata,
        ModelInfo,
        Skill,
        SkillVersion,
    )

# Loaded on first use: the Batches, Files, Skills and Models resources' types.
_LAZY = {
    "DeletedMessageBatch": "._batches",
    "MessageBatch": "._batches",
    "MessageBatchCanceledResult": "._batches",
    "MessageBatchErroredResult": "._batches",
    "MessageBatchExpiredResult": "._batches",
    "MessageBatchIndividualResponse": "._batches",
    "MessageBatchRequestCounts": "._batches",
    "MessageBatchResult": "._batches",
    "MessageBatchSucceededResult": "._batches",
    "UnknownBatchResult": "._batches",
    "ApiObject": "._objects",
    "DeletedFile": "._objects",
    "DeletedSkill": "._objects",
    "DeletedSkillVersion": "._objects",
    "FileMetadata": "._objects",
    "ModelInfo": "._objects",
    "Skill": "._objects",
    "SkillVersion": "._objects",
}

__all__ = [
    "ApiObject",
    "AttemptInfo",
    "CitationsDelta",
    "ContentBlock",
    "ContentBlockDeltaEvent",
    "ContentBlockStartEvent",
    "ContentBlockStopEvent",
    "DeletedFile",
    "DeletedMessageBatch",
    "DeletedSkill",
    "DeletedSkillVersion",
    "ErrorEvent",
    "FileMetadata",
    "InputJSONDelta",
    "Message",
    "MessageBatch",
    "MessageBatchCanceledResult",
    "MessageBatchErroredResult",
    "MessageBatchExpiredResult",
    "MessageBatchIndividualResponse",
    "MessageBatchRequestCounts",
    "MessageBatchResult",
    "MessageBatchSucceededResult",
    "MessageDelta",
    "MessageDeltaEvent",
    "MessageStartEvent",
    "MessageStopEvent",
    "MessageTokensCount",
    "ModelInfo",
    "PingEvent",
    "RedactedThinkingBlock",
    "RouteInfo",
    "ServerToolUseBlock",
    "SignatureDelta",
    "Skill",
    "SkillVersion",
    "StreamEvent",
    "TextBlock",
    "TextDelta",
    "ThinkingBlock",
    "ThinkingDelta",
    "ToolUseBlock",
    "UnknownBatchResult",
    "UnknownBlock",
    "UnknownDelta",
    "UnknownEvent",
    "Usage",
    "WebSearchToolResultBlock",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'clauderoute.types' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
