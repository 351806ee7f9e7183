"""The fast paths of the SSE decoder give exactly what the line-by-line parser gives.

``SSEDecoder`` splits runs of events of the usual form (``event:`` line, one ``data:`` line,
blank line, LF endings) in one regex pass and sends everything else down the general parser.
These tests feed the decoder and a reference that only has the general path with the same
bytes, cut anywhere. The per-token event structs are also kept out of the cyclic GC.
"""

from __future__ import annotations

import gc
import re

import msgspec
from hypothesis import example, given, settings
from hypothesis import strategies as st

from clauderoute._sse import SSEDecoder
from clauderoute.testing import split_at
from clauderoute.types._stream import decode_event
from tests.examples import examples


class _General(SSEDecoder):
    """The line-by-line parser only."""

    def _fast(self, chunk: bytes, pattern: re.Pattern[bytes]) -> list[bytes] | None:
        return None


_names = st.sampled_from(
    [b"content_block_delta", b"ping", b"", b"x-y", b" two", b"\xff\xfe", b"a:b"]
)
_values = st.sampled_from(
    [
        b'{"type":"ping"}',
        b"",
        b" lead",
        b"caf\xc3\xa9",
        b"\xc3",
        b"a:b",
        (b'{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}'),
    ]
)
_nl = st.sampled_from([b"\n", b"\r\n", b"\r"])
# Mostly well-formed events, with every kind of line the general parser must handle mixed in.
_line = st.one_of(
    st.builds(lambda n, v: b"event: " + n + b"\ndata: " + v + b"\n\n", _names, _values),
    st.builds(lambda n, v: b"event: " + n + b"\ndata: " + v + b"\n\n", _names, _values),
    st.builds(lambda v: b"data: " + v + b"\n\n", _values),
    st.builds(lambda v: b"data:" + v + b"\n", _values),
    st.builds(lambda n: b"event:" + n + b"\n", _names),
    st.builds(lambda v, nl: b"data: " + v + nl, _values, _nl),
    st.sampled_from(
        [
            b"\n",
            b"\r",
            b"\r\n",
            b": comment\n",
            b"id: 7\n",
            b"retry: 5\n",
            b"data\n",
            b"event\n",
            b"\n\n",
        ]
    ),
)


@settings(max_examples=examples(250))
@given(
    parts=st.lists(_line, max_size=30),
    cuts=st.lists(st.integers(min_value=0, max_value=2_000), max_size=30),
)
# Always, whatever the count: a fast-path run cut inside its event name, a two-byte character
# cut in two, and CR line endings cut from what follows them.
@example(
    parts=[
        b'event: content_block_delta\ndata: {"type":"ping"}\n\n',
        b"data: caf\xc3\xa9\r",
        b"\r\n",
        b"event: ping\ndata:  lead\n\n",
        b": comment\n",
        b'event: ping\ndata: {"type":"ping"}\n\n',
    ],
    cuts=[10, 60, 62, 63],
)
def test_fast_split_matches_the_line_parser(parts: list[bytes], cuts: list[int]) -> None:
    data = b"".join(parts)
    fast, general, payloads = SSEDecoder(), _General(), SSEDecoder()
    for piece in split_at(data, cuts):
        try:
            want: list[tuple[str, bytes]] | Exception = general.feed(piece)
        except UnicodeDecodeError as exc:
            want = exc
        try:
            got: list[tuple[str, bytes]] | Exception = fast.feed(piece)
        except UnicodeDecodeError as exc:
            got = exc
        if isinstance(want, Exception):
            assert isinstance(got, Exception)
            return  # the general parser cannot go on either
        assert got == want
        assert payloads.feed_data(piece) == [d for _, d in want]
        assert fast.pending == general.pending == payloads.pending


def test_per_token_events_are_not_gc_tracked() -> None:
    """Deltas of strings, stops and pings skip the cyclic GC; events holding containers do not."""
    enc = msgspec.json.Encoder()
    untracked = [
        {"type": "content_block_delta", "index": 0, "delta": d}
        for d in (
            {"type": "text_delta", "text": "x"},
            {"type": "thinking_delta", "thinking": "x"},
            {"type": "input_json_delta", "partial_json": "{"},
            {"type": "signature_delta", "signature": "s"},
        )
    ]
    untracked += [{"type": "content_block_stop", "index": 0}, {"type": "ping"}]
    for raw in untracked:
        ev = decode_event(enc.encode(raw))
        assert not gc.is_tracked(ev), raw
        assert not gc.is_tracked(getattr(ev, "delta", None)), raw
    cited = decode_event(
        enc.encode(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "citations_delta", "citation": {"type": "char_location"}},
            }
        )
    )
    assert gc.is_tracked(cited.delta)  # type: ignore[union-attr]
    other = decode_event(enc.encode({"type": "message_delta", "delta": {}}))
    assert gc.is_tracked(other)
