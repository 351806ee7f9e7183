"""Framing of the resources, without a network: the JSONL decoder under any chunk split, the
streamed multipart body (length known up front, parts intact), pages and batch result lines
(unknown fields and result types kept)."""

from __future__ import annotations

import email.parser
import io
from pathlib import Path

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from clauderoute._jsonl import JSONLDecoder
from clauderoute._multipart import MultipartBody, Part
from clauderoute._resources._pages import decode_page
from clauderoute.testing import split_at
from clauderoute.types import (
    FileMetadata,
    MessageBatchExpiredResult,
    ModelInfo,
    UnknownBatchResult,
)
from clauderoute.types._batches import decode_result_line
from tests.examples import examples

_line = st.dictionaries(
    st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=20)), max_size=4
)


@given(
    st.lists(_line, max_size=8),
    st.lists(st.integers(0, 10_000), max_size=12),
    st.booleans(),
    st.booleans(),
)
def test_jsonl_lines_survive_any_chunking(
    objs: list[dict[str, object]], cuts: list[int], crlf: bool, final_newline: bool
) -> None:
    enc = [msgspec.json.encode(o) for o in objs]
    sep = b"\r\n" if crlf else b"\n"
    data = sep.join(enc) + (sep if final_newline and enc else b"")
    dec = JSONLDecoder()
    got = [line for chunk in split_at(data, cuts) for line in dec.feed(chunk)] + dec.end()
    assert [msgspec.json.decode(x) for x in got] == objs


def test_jsonl_skips_blank_lines_and_holds_only_the_tail() -> None:
    dec = JSONLDecoder()
    assert dec.feed(b'{"a":1}\n\n{"b"') == [b'{"a":1}']
    assert dec.feed(b":2}\n") == [b'{"b":2}']
    assert dec.end() == []


async def _body(mp: MultipartBody) -> bytes:
    return b"".join([c async for c in mp.stream()])


@settings(max_examples=examples(40))
@given(
    st.lists(st.binary(max_size=3000), min_size=1, max_size=4),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
)
async def test_multipart_parts_round_trip(payloads: list[bytes], name: str) -> None:
    parts = [
        Part(
            "files[]", data=p, filename=f"{name}/f{i}.bin", content_type="application/octet-stream"
        )
        for i, p in enumerate(payloads)
    ]
    mp = MultipartBody(parts)
    raw = await _body(mp)
    assert mp.length == len(raw)
    msg = email.parser.BytesParser().parsebytes(
        b"Content-Type: " + mp.content_type.encode() + b"\r\n\r\n" + raw
    )
    got = [p.get_payload(decode=True) for p in msg.get_payload()]  # type: ignore[union-attr]
    assert got == payloads


async def test_multipart_streams_files_and_file_objects(tmp_path: Path) -> None:
    src = tmp_path / "a.bin"
    src.write_bytes(b"\x00" * 700_000)
    f = io.BytesIO(b"xyz" * 10)
    f.read(3)  # a file object is sent from where it stands
    mp = MultipartBody(
        [Part("file", path=src, filename="a.bin"), Part("other", fileobj=f, filename="b")]
    )
    chunks = [c async for c in mp.stream()]
    assert max(len(c) for c in chunks) <= 256 * 1024  # never the whole file in one piece
    raw = b"".join(chunks)
    assert mp.length == len(raw) and raw.count(b"\x00") == 700_000
    assert b"\r\n\r\n" + b"xyz" * 9 + b"\r\n--" in raw
    again = await _body(mp)  # a retry sends the same bytes again
    assert again == raw


def test_pages_keep_cursors_and_unknown_fields() -> None:
    body = (
        b'{"data":[{"id":"file_1","type":"file","filename":"a","mime_type":"text/plain",'
        b'"size_bytes":3,"created_at":"2025-04-15T18:37:24Z","scope":{"type":"session"}}],'
        b'"has_more":true,"first_id":"file_1","last_id":"file_1","next_page":"page_x"}'
    )
    page = decode_page(FileMetadata, body, "east")
    assert page.has_more and page.next_page == "page_x" and page.provider == "east"
    assert page.next_page_params() == {"page": "page_x"}
    item = page.data[0]
    assert item.extra == {"scope": {"type": "session"}} and item.provider == "east"
    models = decode_page(ModelInfo, b'{"data":[],"has_more":false,"first_id":null}', "x")
    assert models.data == [] and models.next_page_params() is None


def test_result_lines_keep_unknown_types() -> None:
    r = decode_result_line(b'{"custom_id":"a","result":{"type":"expired"},"extra_f":1}')
    assert isinstance(r.result, MessageBatchExpiredResult) and r.extra == {"extra_f": 1}
    r = decode_result_line(b'{"custom_id":"b","result":{"type":"deferred","until":"x"}}')
    assert isinstance(r.result, UnknownBatchResult)
    assert r.result.data == {"type": "deferred", "until": "x"}
