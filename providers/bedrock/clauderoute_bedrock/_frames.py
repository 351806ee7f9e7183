"""Writing AWS event-stream frames (the emulator's side; botocore only parses them).

Layout (AWS docs, "Event stream encoding"): total length (uint32), headers length (uint32),
CRC32 of those 8 bytes, headers, payload, CRC32 of everything before it. A header is its name's
length (uint8), the name, a type byte (7 = string), the value's length (uint16) and the value.
"""

from __future__ import annotations

import zlib

__all__ = ["encode_frame"]

_STRING = 7


def _headers(headers: dict[str, str]) -> bytes:
    out = bytearray()
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        out += len(raw_name).to_bytes(1, "big") + raw_name + bytes([_STRING])
        out += len(raw_value).to_bytes(2, "big") + raw_value
    return bytes(out)


def encode_frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message with string ``headers`` and ``payload``, CRCs included."""
    raw_headers = _headers(headers)
    total = 16 + len(raw_headers) + len(payload)
    prelude = total.to_bytes(4, "big") + len(raw_headers).to_bytes(4, "big")
    prelude += zlib.crc32(prelude).to_bytes(4, "big")
    message = prelude + raw_headers + payload
    return message + zlib.crc32(message).to_bytes(4, "big")
