"""Bedrock's stream: AWS event-stream frames (``application/vnd.amazon.eventstream``) carrying the
Claude API's events, decoded with botocore's own frame parser.

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
import struct
from typing import Any

import msgspec

from clauderoute.provider import (
    ErrorBody,
    ErrorEvent,
    MalformedResponse,
    StreamDecoder,
    StreamEvent,
    decode_event,
)

__all__ = ["BedrockErrorBody", "EventStreamDecoder"]

_PRELUDE = 12  # total length (4), headers length (4), prelude CRC32 (4)
_MIN_FRAME = 16  # prelude + message CRC32


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

    __slots__ = ("_buffer", "_need", "_parser_error", "_pending", "_platform", "payloads")

    def __init__(self, platform: str | None = None) -> None:
        # lazy: botocore is imported when a stream is decoded, not with the package
        import botocore.eventstream as es  # type: ignore[import-untyped]

        self._buffer = es.EventStreamBuffer()
        self._parser_error = es.ParserError
        self._platform = platform
        # Bytes not yet handed to botocore. botocore's buffer copies all it holds for every
        # frame it parses and every add_data, so a burst of N frames given at once costs O(N²);
        # it is given one frame at a time instead: first the 12-byte prelude (which it checks
        # at once: CRC, bounds), then the rest of the frame when all of it has arrived.
        self._pending = bytearray()
        self._need = 0  # bytes of the current frame after its prelude; 0: none begun
        #: The Claude JSON of each event the last ``feed`` returned, in order (``b""`` for an
        #: exception frame): what ``MessageStream.raw()`` puts in SSE without re-encoding.
        self.payloads: list[bytes] = []

    def _malformed(self, why: str) -> MalformedResponse:
        return MalformedResponse(f"bad AWS event-stream frame: {why}", platform=self._platform)

    def feed(self, data: bytes) -> list[StreamEvent]:
        """Consume ``data``; return the Claude events of every frame now complete."""
        self.payloads = []
        if not data:
            return []
        out: list[StreamEvent] = []
        pending, buffer = self._pending, self._buffer
        pending += data
        try:
            while True:
                if not self._need:
                    if len(pending) < _PRELUDE:
                        break
                    head = bytes(pending[:_PRELUDE])
                    del pending[:_PRELUDE]  # cheap: a bytearray drops its front in place
                    total = int.from_bytes(head[0:4], "big")
                    headers = int.from_bytes(head[4:8], "big")
                    # botocore checks the CRC and upper bounds; a frame shorter than its own
                    # prelude and trailer (possible with a crafted CRC) would never complete.
                    if total < _MIN_FRAME or headers > total - _MIN_FRAME:
                        raise self._malformed(
                            f"impossible lengths (total {total}, headers {headers})")
                    buffer.add_data(head)
                    for message in buffer:  # checks the prelude; no frame is complete yet
                        out.extend(self._event(message.headers, message.payload))
                    self._need = total - _PRELUDE
                if len(pending) < self._need:
                    break
                rest = bytes(pending[:self._need])
                del pending[:self._need]
                self._need = 0
                buffer.add_data(rest)
                for message in buffer:
                    out.extend(self._event(message.headers, message.payload))
        except MalformedResponse:
            raise
        except self._parser_error as exc:  # botocore's own errors: CRC, lengths
            raise self._malformed(str(exc)) from exc
        except (ValueError, LookupError, struct.error) as exc:
            # Frames whose CRCs are right but whose insides are not (an unknown header type,
            # a string that is not UTF-8): botocore lets these escape untranslated.
            raise self._malformed(f"{type(exc).__name__}: {exc}") from exc
        return out

    def _event(self, headers: dict[str, Any], payload: bytes) -> list[StreamEvent]:
        kind = _header(headers, ":message-type")
        if kind == "event":
            if _header(headers, ":event-type") != "chunk":
                return []  # an event type this version does not know: skipped, as botocore does
            try:
                raw = base64.b64decode(_chunk.decode(payload).bytes, validate=True)
                event = decode_event(raw)
                self.payloads.append(raw)
                return [event]
            except (msgspec.DecodeError, msgspec.ValidationError, binascii.Error) as exc:
                raise self._malformed(f"undecodable chunk: {exc}") from exc
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
        if self._need or self._pending:
            raise self._malformed(
                f"stream ended inside a frame ({self._need or len(self._pending)} bytes "
                "missing or left)")
        return []
