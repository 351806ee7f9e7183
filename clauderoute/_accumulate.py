"""Builds the final ``Message`` from stream events, the way the SDK's ``get_final_message`` does.

Text and thinking arrive as fragments and tool input as fragments of JSON text; fragments are
kept in lists and joined once, when the block stops or a snapshot is asked for, so a long
answer costs O(n) rather than O(n²) in string copies.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ._errors import MalformedResponse
from .types._content import (
    ServerToolUseBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    UnknownBlock,
)
from .types._messages import Message, Usage, add_message_extra
from .types._stream import (
    CitationsDelta,
    ContentBlockDeltaEvent,
    ContentBlockStartEvent,
    ContentBlockStopEvent,
    InputJSONDelta,
    MessageDeltaEvent,
    MessageStartEvent,
    SignatureDelta,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
)

__all__ = ["MessageAccumulator", "merge_usage"]

_any_json = msgspec.json.Decoder()


def merge_usage(into: Usage, new: Usage | None) -> Usage:
    """Field by field, later non-null values win (output tokens are cumulative on the wire)."""
    if new is None:
        return into
    return Usage(
        input_tokens=new.input_tokens or into.input_tokens,
        output_tokens=new.output_tokens or into.output_tokens,
        cache_creation_input_tokens=(new.cache_creation_input_tokens
                                     if new.cache_creation_input_tokens is not None
                                     else into.cache_creation_input_tokens),
        cache_read_input_tokens=(new.cache_read_input_tokens
                                 if new.cache_read_input_tokens is not None
                                 else into.cache_read_input_tokens),
        server_tool_use=new.server_tool_use or into.server_tool_use,
        service_tier=new.service_tier or into.service_tier,
    )


class MessageAccumulator:
    """Feed it every event; ``message`` is the answer so far (complete after ``message_stop``)."""

    def __init__(self) -> None:
        self.message: Message | None = None
        self._parts: dict[int, list[str]] = {}
        self.stopped = False

    def add(self, event: StreamEvent) -> None:
        """Apply one event."""
        if isinstance(event, ContentBlockDeltaEvent):
            # Most events are text: append without the checks' calls (``_delta`` does the same
            # for a started block; anything else goes there).
            d, index, msg = event.delta, event.index, self.message
            parts = self._parts.get(index)
            if (type(d) is TextDelta and parts is not None and msg is not None
                    and index < len(msg.content)):
                parts.append(d.text)
            else:
                self._delta(event)
        elif isinstance(event, ContentBlockStartEvent):
            msg = self._msg()
            while len(msg.content) <= event.index:
                msg.content.append(UnknownBlock(type="", data={}))
            msg.content[event.index] = event.content_block
            self._parts[event.index] = []
        elif isinstance(event, ContentBlockStopEvent):
            self._finish(event.index)
        elif isinstance(event, MessageStartEvent):
            self.message = event.message
        elif isinstance(event, MessageDeltaEvent):
            msg = self._msg()
            msg.stop_reason = event.delta.stop_reason or msg.stop_reason
            msg.stop_sequence = event.delta.stop_sequence or msg.stop_sequence
            if event.delta.container is not None:
                msg.container = event.delta.container
            msg.usage = merge_usage(msg.usage, event.usage)
        elif event.type == "message_stop":
            self.stopped = True

    def keep_extra(self, extra: Any) -> None:
        """Add ``extra`` (what the stream's decoder returned from ``message_extra()``) to the
        message's ``Message.extra``; ``None`` or empty adds nothing."""
        if extra and self.message is not None:
            add_message_extra(self.message, extra)

    def _msg(self) -> Message:
        if self.message is None:
            raise MalformedResponse("stream event before message_start")
        return self.message

    def _delta(self, event: ContentBlockDeltaEvent) -> None:
        d = event.delta
        block = self._block(event.index)
        if isinstance(d, (TextDelta, ThinkingDelta, InputJSONDelta)):
            self._parts[event.index].append(
                d.text if isinstance(d, TextDelta)
                else d.thinking if isinstance(d, ThinkingDelta) else d.partial_json
            )
        elif isinstance(d, SignatureDelta) and isinstance(block, ThinkingBlock):
            block.signature = d.signature
        elif isinstance(d, CitationsDelta) and isinstance(block, TextBlock):
            if block.citations is None:
                block.citations = []
            block.citations.append(d.citation)

    def _block(self, index: int) -> Any:
        msg = self._msg()
        if index >= len(msg.content) or index not in self._parts:
            raise MalformedResponse(f"delta for block {index} before its content_block_start")
        return msg.content[index]

    def _finish(self, index: int) -> None:
        parts = self._parts.pop(index, None)
        if not parts:
            return
        block = self._msg().content[index]
        text = "".join(parts)
        if isinstance(block, TextBlock):
            block.text += text
        elif isinstance(block, ThinkingBlock):
            block.thinking += text
        elif isinstance(block, (ToolUseBlock, ServerToolUseBlock)):
            try:
                block.input = _any_json.decode(text) if text else {}
            except msgspec.DecodeError as exc:
                raise MalformedResponse(f"tool input of block {index} is not JSON") from exc

    def current(self) -> Message | None:
        """The message so far, mid-stream: the text and thinking fragments received up to now
        are joined into their blocks (their blocks stay open for more); a tool input stays as
        it was until its block stops, since its JSON is whole only then. Costs the fragments
        received since the last call, nothing per event."""
        msg = self.message
        if msg is None:
            return None
        for index, parts in self._parts.items():
            if not parts:
                continue
            block = msg.content[index]
            if isinstance(block, TextBlock):
                block.text += "".join(parts)
            elif isinstance(block, ThinkingBlock):
                block.thinking += "".join(parts)
            else:
                continue
            parts.clear()
        return msg

    def snapshot(self) -> Message | None:
        """The message so far, with open blocks' fragments applied (for a partial result)."""
        if self.message is None:
            return None
        for index in list(self._parts):
            try:
                self._finish(index)
            except MalformedResponse:
                pass  # a half-sent tool input stays as it was
        return self.message
