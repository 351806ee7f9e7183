"""Bedrock's stream: AWS event-stream frames (``application/vnd.amazon.eventstream``) carrying the
Claude API's events, decoded by ``_eventframes.FrameDecoder`` (CRCs checked).

Each frame is a prelude (total length, headers length, prelude CRC32), typed headers, a payload
and a CRC32 of the whole message (AWS docs, "Event stream encoding"). An ``event`` frame of type
``chunk`` carries ``{"bytes": base64(<one Claude stream event's JSON>)}``; an ``exception`` frame
carries ``{"message": ...}`` and names the exception in ``:exception-type``
(``throttlingException``, ``modelStreamErrorException``…, botocore's bedrock-runtime
``ResponseStream`` shape). Exception frames become ``error`` events, which the provider maps to
typed, classified errors just as it maps the Claude API's in-stream ``error`` events.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import msgspec

from clauderoute.provider import (
    ErrorBody,
    ErrorEvent,
    MalformedResponse,
    SSEEventDecoder,
    StreamDecoder,
    StreamEvent,
    decode_event,
)

from ._eventframes import FrameDecoder, FrameError

__all__ = ["METRICS", "BedrockErrorBody", "BedrockSSEDecoder", "EventStreamDecoder",
           "invocation_metrics", "metrics_extra"]

#: ``Message.extra`` key of the invocation metrics (the name Bedrock's last stream event uses).
METRICS = "amazon-bedrock-invocationMetrics"
# Response headers of InvokeModel (arriving lower-cased) → the invocationMetrics keys.
_METRIC_HEADERS = (("x-amzn-bedrock-input-token-count", "inputTokenCount"),
                   ("x-amzn-bedrock-output-token-count", "outputTokenCount"),
                   ("x-amzn-bedrock-invocation-latency", "invocationLatency"))


def invocation_metrics(headers: Mapping[str, str]) -> dict[str, int | str]:
    """InvokeModel's ``X-Amzn-Bedrock-*`` headers in the stream's ``invocationMetrics`` shape
    (``inputTokenCount``, ``outputTokenCount``, ``invocationLatency`` in ms)."""
    out: dict[str, int | str] = {}
    for header, key in _METRIC_HEADERS:
        if (value := headers.get(header)) is not None:  # int() of "²" or 5000 digits raises
            out[key] = int(value) if len(value) < 20 and value.isascii() and value.isdigit() else value
    return out


def metrics_extra(headers: Mapping[str, str]) -> dict[str, Any]:
    """``Message.extra``'s part from an InvokeModel answer's ``headers`` (none without them)."""
    metrics = invocation_metrics(headers)
    return {METRICS: metrics} if metrics else {}


def _stop_metrics(events: list[StreamEvent]) -> dict[str, Any] | None:
    """The invocation metrics of the ``message_stop`` among ``events``, if it carries them
    (Bedrock attaches them to a stream's last event, on InvokeModel and the Messages API)."""
    for ev in events:
        if ev.type == "message_stop":
            metrics = getattr(ev, "metrics", None)
            if isinstance(metrics, dict):
                return metrics
    return None


class BedrockErrorBody(ErrorBody, kw_only=True):
    """The ``error`` of an exception frame, with ``modelStreamErrorException``'s extra fields:
    the status and body the model itself answered (botocore's ``ModelStreamErrorException``)."""

    original_status: int | None = None


class _Chunk(msgspec.Struct):
    # PayloadPart: `bytes` (base64 in the JSON payload). Bedrock may add a padding field `p`.
    bytes: str = ""


class _Exception(msgspec.Struct):
    message: str = ""
    originalStatusCode: int | None = None
    originalMessage: str | None = None


class _ClaudeError(msgspec.Struct):
    # `originalMessage` of a modelStreamErrorException: the model's own error body, if JSON.
    error: ErrorBody | None = None


_chunk = msgspec.json.Decoder(_Chunk)
_exception = msgspec.json.Decoder(_Exception)
_claude_error = msgspec.json.Decoder(_ClaudeError)


def _header(headers: dict[str, Any], name: str) -> str:
    value = headers.get(name)
    return value if isinstance(value, str) else ""


class EventStreamDecoder(StreamDecoder):
    """``StreamDecoder`` for InvokeModelWithResponseStream: frames in, Claude events out.

    Any split of the bytes gives the same events; a CRC mismatch, an impossible length or
    undecodable content raises ``MalformedResponse`` at once, and ``end()`` raises it when the
    stream stopped inside a frame.
    """

    __slots__ = ("_frames", "_metrics", "_platform", "payloads")

    def __init__(self, platform: str | None = None) -> None:
        self._frames = FrameDecoder()
        self._platform = platform
        self._metrics: dict[str, Any] | None = None
        #: The Claude JSON of each event the last ``feed`` returned, in order (``b""`` for an
        #: exception frame): what ``MessageStream.raw()`` puts in SSE without re-encoding.
        self.payloads: list[bytes] = []

    def _malformed(self, why: str) -> MalformedResponse:
        return MalformedResponse(f"bad AWS event-stream frame: {why}", platform=self._platform)

    def feed(self, data: bytes) -> list[StreamEvent]:
        """Consume ``data``; return the Claude events of every frame now complete."""
        self.payloads = []
        try:
            frames = self._frames.feed(data)
        except FrameError as exc:
            raise self._malformed(str(exc)) from None
        out: list[StreamEvent] = []
        for headers, payload in frames:
            if headers.get(":message-type") == "event" and \
                    headers.get(":event-type") == "chunk":
                out.append(self._chunk(payload))  # the common case, first
            else:
                out.extend(self._event(headers, payload))
        if out and out[-1].type == "message_stop":  # the last event, with the metrics
            self._metrics = _stop_metrics(out) or self._metrics
        return out

    def message_extra(self) -> dict[str, Any] | None:
        """The last event's ``amazon-bedrock-invocationMetrics``, as ``Message.extra``."""
        return None if self._metrics is None else {METRICS: self._metrics}

    def _chunk(self, payload: bytes) -> StreamEvent:
        try:
            raw = base64.b64decode(_chunk.decode(payload).bytes, validate=True)
            event = decode_event(raw)
        except (msgspec.DecodeError, msgspec.ValidationError, binascii.Error) as exc:
            raise self._malformed(f"undecodable chunk: {exc}") from exc
        self.payloads.append(raw)  # the event's own JSON, for MessageStream.raw()
        return event

    def _event(self, headers: dict[str, Any], payload: bytes) -> list[StreamEvent]:
        kind = _header(headers, ":message-type")
        if kind == "event":
            return []  # an event type this version does not know: skipped, as botocore does
        if kind in ("exception", "error"):
            self.payloads.append(b"")
        if kind == "exception":
            return [ErrorEvent(error=self._exception(_header(headers, ":exception-type"),
                                                      payload))]
        if kind == "error":  # a protocol-level error frame (botocore: ':error-code' headers)
            return [ErrorEvent(error=BedrockErrorBody(
                type=_header(headers, ":error-code") or "InternalServerException",
                message=_header(headers, ":error-message")))]
        raise self._malformed(f"unknown :message-type {kind!r}")

    @staticmethod
    def _exception(name: str, payload: bytes) -> BedrockErrorBody:
        try:
            body = _exception.decode(payload)
        except (msgspec.DecodeError, msgspec.ValidationError):
            body = _Exception(message=payload[:200].decode("utf-8", "replace"))
        if body.originalStatusCode is not None:
            # modelStreamErrorException: the model's own error. Surface its Claude type
            # (overloaded_error…) when the original body is the Claude API's error JSON.
            original = None
            if body.originalMessage:
                try:
                    original = _claude_error.decode(body.originalMessage).error
                except (msgspec.DecodeError, msgspec.ValidationError):
                    original = None
            if original is not None:
                return BedrockErrorBody(type=original.type, message=original.message,
                                        original_status=body.originalStatusCode)
            return BedrockErrorBody(type=name or "modelStreamErrorException",
                                    message=body.originalMessage or body.message,
                                    original_status=body.originalStatusCode)
        return BedrockErrorBody(type=name or "internalServerException", message=body.message)

    def end(self) -> list[StreamEvent]:
        """Raise ``MalformedResponse`` if the stream stopped inside a frame."""
        try:
            self._frames.end()
        except FrameError as exc:
            raise self._malformed(str(exc)) from None
        return []


class BedrockSSEDecoder(SSEEventDecoder):
    """``SSEEventDecoder`` for Bedrock's Messages-API endpoints, which attach the invocation
    metrics to the stream's ``message_stop`` as InvokeModel does: kept for ``Message.extra``."""

    __slots__ = ("_metrics",)

    def __init__(self, platform: str | None = None) -> None:
        super().__init__(platform)
        self._metrics: dict[str, Any] | None = None

    def feed(self, data: bytes) -> list[StreamEvent]:
        """As ``SSEEventDecoder.feed``; remembers the metrics of a ``message_stop``."""
        out = super().feed(data)
        if out and out[-1].type == "message_stop":
            self._metrics = _stop_metrics(out) or self._metrics
        return out

    def message_extra(self) -> dict[str, Any] | None:
        """The last event's ``amazon-bedrock-invocationMetrics``, as ``Message.extra``."""
        return None if self._metrics is None else {METRICS: self._metrics}
