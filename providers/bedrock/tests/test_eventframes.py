"""The event-stream frame decoder against botocore's ``EventStreamBuffer`` (the reference).

For generated frames — every header type, empty and binary payloads, the Bedrock chunk frames
— cut at any points, the frames decoded are equal to botocore's. Every stream botocore rejects
(a flipped byte anywhere: CRCs; headers or payload over its limits; a duplicate or unknown
header) is rejected here too, with ``FrameError``, after the same frames. The one way the two
differ is stated and tested: a header value running past its header block, which botocore cuts
short and this decoder refuses.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from typing import Any

import pytest
from botocore.eventstream import EventStreamBuffer
from clauderoute_bedrock._eventframes import MAX_HEADERS, MAX_PAYLOAD, FrameDecoder, FrameError
from hypothesis import given, settings
from hypothesis import strategies as st

from clauderoute.testing import split_at
from tests.examples import examples

I64 = (-(2**63), 2**63 - 1)


def encode_header(name: bytes, kind: int, value: Any) -> bytes:
    out = bytes([len(name)]) + name + bytes([kind])
    if kind in (0, 1):
        return out
    if kind in (6, 7):
        raw = value if kind == 6 else value.encode()
        return out + struct.pack("!H", len(raw)) + raw
    if kind == 9:
        return out + value
    return out + struct.pack({2: "!b", 3: "!h", 4: "!i", 5: "!q", 8: "!q"}[kind], value)


def frame(
    block: bytes, payload: bytes, *, total: int | None = None, size: int | None = None
) -> bytes:
    """A frame with correct CRCs around whatever lengths it is told to claim."""
    total = 16 + len(block) + len(payload) if total is None else total
    prelude = struct.pack("!II", total, len(block) if size is None else size)
    prelude += struct.pack("!I", zlib.crc32(prelude))
    body = prelude + block + payload
    return body + struct.pack("!I", zlib.crc32(body))


_values = {
    0: st.just(True),
    1: st.just(False),
    2: st.integers(-128, 127),
    3: st.integers(-(2**15), 2**15 - 1),
    4: st.integers(-(2**31), 2**31 - 1),
    5: st.integers(*I64),
    6: st.binary(max_size=40),
    7: st.text(max_size=20),
    8: st.integers(*I64),
    9: st.binary(min_size=16, max_size=16),
}


# Built once: a strategy made in each draw is a new object that hypothesis analyses anew (for a
# filter, by parsing its lambda's source), which cost more than all else in these tests.
_names = st.lists(
    st.text(min_size=1, max_size=12).filter(lambda n: len(n.encode()) < 256),
    max_size=5,
    unique=True,
)
_kinds = st.integers(0, 9)


@st.composite
def header_blocks(draw: Any) -> bytes:
    out = b""
    for name in draw(_names):
        kind = draw(_kinds)
        out += encode_header(name.encode(), kind, draw(_values[kind]))
    return out


_bedrock_chunk = frame(
    encode_header(b":event-type", 7, "chunk")
    + encode_header(b":content-type", 7, "application/json")
    + encode_header(b":message-type", 7, "event"),
    b'{"bytes":"eyJ0eXBlIjoicGluZyJ9"}',
)
frames = st.lists(
    st.one_of(st.just(_bedrock_chunk), st.builds(frame, header_blocks(), st.binary(max_size=200))),
    min_size=1,
    max_size=6,
)


def botocore_frames(chunks: list[bytes]) -> tuple[list[Any], BaseException | None]:
    buffer, out = EventStreamBuffer(), []
    try:
        for chunk in chunks:
            buffer.add_data(chunk)
            out.extend((m.headers, m.payload) for m in buffer)
    except Exception as exc:  # noqa: BLE001 - any refusal counts (ParserError, struct.error…)
        return out, exc
    return out, None


def our_frames(chunks: list[bytes]) -> tuple[list[Any], FrameError | None, int]:
    decoder, out = FrameDecoder(), []
    try:
        for chunk in chunks:
            out.extend(decoder.feed(chunk))
        decoder.end()
    except FrameError as exc:
        return out, exc, decoder.pending
    return out, None, decoder.pending


def _split_alike(chunks: list[bytes], frames: int) -> None:
    expected, error = botocore_frames(chunks)
    assert error is None
    got, our_error, pending = our_frames(chunks)
    assert our_error is None and pending == 0
    assert got == expected and len(got) == frames


def _flip_alike(raw: bytes, at: int, flip: int, cuts: list[int]) -> None:
    damaged = bytearray(raw)
    damaged[at] ^= flip
    chunks = split_at(bytes(damaged), cuts)
    expected, error = botocore_frames(chunks)
    got, our_error, _ = our_frames(chunks)
    # CRC32 catches every error confined to one byte: both refuse, after the same frames
    assert error is not None and our_error is not None
    assert got == expected


@settings(max_examples=examples(150), deadline=None)
@given(stream=frames, data=st.data())
def test_frames_equal_botocore_for_any_split(stream: list[bytes], data: Any) -> None:
    raw = b"".join(stream)
    _split_alike(
        split_at(raw, data.draw(st.lists(st.integers(0, len(raw)), max_size=8))), len(stream)
    )


@settings(max_examples=examples(150), deadline=None)
@given(stream=frames, data=st.data())
def test_a_flipped_byte_is_refused_alike(stream: list[bytes], data: Any) -> None:
    raw = b"".join(stream)
    at = data.draw(st.integers(0, len(raw) - 1))
    flip = data.draw(st.integers(1, 255))
    _flip_alike(raw, at, flip, data.draw(st.lists(st.integers(0, len(raw)), max_size=4)))


# The hard cases, whatever the counts above: a stream of a frame holding one header of every
# type, an empty frame, a binary payload and a Bedrock chunk, cut before every byte; and each of
# its bytes flipped (prelude, prelude CRC, headers, payload, message CRC), fed whole and cut
# right at the flipped byte.
_EVERY_KIND = frame(
    b"".join(
        encode_header(f"h{k}".encode(), k, v)
        for k, v in enumerate(
            [
                True,
                False,
                -128,
                -(2**15),
                2**31 - 1,
                -(2**63),
                b"\x00\xff",
                "caf\u00e9",
                2**63 - 1,
                uuid.UUID(int=1).bytes,
            ]
        )
    ),
    b"\x00\x01\xfe\xff",
)
_HARD = [_EVERY_KIND, frame(b"", b""), frame(b"", bytes(range(256))), _bedrock_chunk]
_HARD_RAW = b"".join(_HARD)


def test_frames_equal_botocore_cut_before_every_byte() -> None:
    _split_alike([_HARD_RAW[i : i + 1] for i in range(len(_HARD_RAW))], len(_HARD))


def test_every_byte_flipped_is_refused_alike() -> None:
    for at in range(len(_HARD_RAW)):
        _flip_alike(_HARD_RAW, at, 0x80 if at % 2 else 0x01, [])
        _flip_alike(_HARD_RAW, at, 0xFF, [at, at + 1])


@pytest.mark.parametrize(
    ("total", "size", "why"),
    [
        (16 + MAX_HEADERS + 1, MAX_HEADERS + 1, "impossible lengths"),  # headers over the limit
        (16 + MAX_PAYLOAD + 1, 0, "impossible lengths"),  # payload over the limit
        (2**32 - 1, 0, "impossible lengths"),  # an absurd total
    ],
)
def test_absurd_lengths_refused_alike_before_buffering(total: int, size: int, why: str) -> None:
    """The prelude alone (12 bytes) is enough to refuse: nothing of the frame is waited for."""
    prelude = frame(b"", b"", total=total, size=size)[:12]
    expected, error = botocore_frames([prelude])
    assert expected == [] and error is not None
    with pytest.raises(FrameError, match=why):
        FrameDecoder().feed(prelude)


@pytest.mark.parametrize(("total", "size"), [(0, 0), (12, 0), (15, 0), (20, 5), (16, 1)])
def test_lengths_shorter_than_the_frame_refused(total: int, size: int) -> None:
    """A frame claiming less than its prelude and trailer (possible with a crafted prelude CRC)
    can never complete: refused at the prelude. (botocore fails on these with struct or CRC
    errors, or waits.)"""
    with pytest.raises(FrameError, match="impossible lengths"):
        FrameDecoder().feed(frame(b"", b"x" * 8, total=total, size=size))


@pytest.mark.parametrize(
    "block",
    [
        encode_header(b"a", 7, "x") + encode_header(b"a", 7, "y"),  # duplicate
        b"\x01a\x0a",  # unknown type 10
        b"\x01a\x07\x00\x02\xff\xfe",  # a string that is not UTF-8
        b"\x01a\x04\x00\x00",  # an int32 cut short
        b"\x05ab",  # a name cut short
    ],
)
def test_bad_headers_refused_alike(block: bytes) -> None:
    raw = frame(block, b"payload")
    expected, error = botocore_frames([raw])
    assert expected == [] and error is not None
    with pytest.raises(FrameError):
        FrameDecoder().feed(raw)


@pytest.mark.parametrize("block", [b"\x01a\x07\x00\x09abc", b"\x01a\x09" + b"\x00" * 5])
def test_a_value_past_its_header_block_is_refused(block: bytes) -> None:
    """Where the two differ on purpose: botocore cuts the value short and goes on."""
    raw = frame(block, b"payload")
    expected, error = botocore_frames([raw])
    assert error is None and len(expected) == 1
    with pytest.raises(FrameError, match="runs past"):
        FrameDecoder().feed(raw)


def test_a_frame_dripped_byte_by_byte_is_buffered_once() -> None:
    """A large frame arriving one byte at a time is not re-examined on every byte (the
    decoder waits for its full length); it decodes equal to botocore's."""
    raw = frame(encode_header(b"id", 9, uuid.uuid4().bytes), b"z" * 5000) + _bedrock_chunk
    decoder, out = FrameDecoder(), []
    for i in range(len(raw)):
        out.extend(decoder.feed(raw[i : i + 1]))
        if i == 20:
            assert decoder._need == 16 + 1 + 2 + 1 + 16 + 5000  # our own state
    assert out == botocore_frames([raw])[0] and decoder.pending == 0


@given(at=st.integers(0, 11), flip=st.integers(1, 255))
def test_a_bad_prelude_is_refused_on_its_12_bytes(at: int, flip: int) -> None:
    """A damaged prelude is refused as soon as its 12 bytes are in, before its (possibly
    absurd) length is waited for — as botocore refuses it."""
    prelude = bytearray(_bedrock_chunk[:12])
    prelude[at] ^= flip
    expected, error = botocore_frames([bytes(prelude)])
    assert expected == [] and error is not None
    with pytest.raises(FrameError, match="prelude CRC"):
        FrameDecoder().feed(bytes(prelude))
