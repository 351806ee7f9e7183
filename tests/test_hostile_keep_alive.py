"""``HostileServer(keep_alive=True)``: after an answer that is complete and framed by its
length, the connection carries the client's next request, as a real HTTP/1.1 server's does; any
other answer, a client that asks to close, and a pipelined request end the connection. Driven
over raw sockets, so what is checked is the server's side of the wire, byte for byte."""

from __future__ import annotations

import asyncio

import pytest
from clauderoute_anthropic import AnthropicProvider

import clauderoute as cr
from clauderoute.testing import Hostile, HostileServer

BODY = b'{"model": "claude-haiku-4-5", "max_tokens": 8, "messages": []}'


def _request(connection: str | None = None, version: str = "HTTP/1.1") -> bytes:
    extra = f"connection: {connection}\r\n" if connection else ""
    return (
        f"POST /v1/messages {version}\r\nhost: x\r\ncontent-length: {len(BODY)}\r\n{extra}\r\n"
    ).encode() + BODY


async def _answer(reader: asyncio.StreamReader) -> tuple[bytes, dict[str, str], bytes]:
    """One answer framed by its content-length: status line, headers, body."""
    status, headers = await _head(reader)
    body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 10)
    return status, headers, body


async def _head(reader: asyncio.StreamReader) -> tuple[bytes, dict[str, str]]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    status, *lines = head.decode("latin-1").split("\r\n")
    return status.encode(), {
        k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines if x)
    }


async def _closed(reader: asyncio.StreamReader) -> bool:
    """Whether the server ended the connection (rather than waiting for a request)."""
    try:
        return await asyncio.wait_for(reader.read(1), 10) == b""
    except ConnectionResetError:
        return True


async def test_a_connection_carries_requests_after_polite_answers() -> None:
    """Three framed answers (a 200, a 529 with an absurd retry-after, an HTML 502) on one
    connection, each announcing keep-alive; the server sees three requests, one connection."""
    answers = (
        Hostile(),
        Hostile(status=529, headers={"retry-after": "99999999999999999999"}),
        Hostile(mode="html", status=502),
    )
    async with HostileServer(*answers, keep_alive=True) as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        statuses = []
        for _ in answers:
            writer.write(_request())
            status, headers, body = await _answer(reader)
            assert headers["connection"] == "keep-alive"
            assert body
            statuses.append(status.split()[1])
        assert statuses == [b"200", b"529", b"502"]
        assert server.requests == 3 and server.open_connections == 1
        writer.close()
        await server.wait_idle()
    assert server.disconnects == 0


@pytest.mark.parametrize(
    "answer",
    [
        Hostile(mode="stop_mid_event"),  # delimited by the close itself
        Hostile(mode="bad_chunked"),  # framing broken
        Hostile(headers={"content-length": "5"}),  # framing set (a lie) by the answer's headers
        Hostile(headers={"connection": "close"}),
    ],
    ids=["stop_mid_event", "bad_chunked", "lying_length", "told_close"],
)
async def test_other_answers_end_the_connection(answer: Hostile) -> None:
    async with HostileServer(answer, Hostile(), keep_alive=True) as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(_request())
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        await asyncio.wait_for(reader.read(), 10)  # the rest, up to the server's close
        assert reader.at_eof()
        writer.close()
        await server.wait_idle()
    assert server.requests == 1


@pytest.mark.parametrize(("connection", "version"), [("close", "HTTP/1.1"), (None, "HTTP/1.0")])
async def test_a_client_that_asks_to_close_gets_one_answer(
    connection: str | None, version: str
) -> None:
    async with HostileServer(keep_alive=True) as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(_request(connection, version))
        _, headers, _ = await _answer(reader)
        assert headers["connection"] == "close"
        assert await _closed(reader)
        writer.close()
    assert server.received[0].version == version


async def test_the_start_of_the_next_request_sent_early_is_kept() -> None:
    """A client may write the first bytes of its next request while an answer is still going
    out (here, dripped): a few bytes, or whole lines of its head, are that request's start, not
    lost; a whole request sent early (pipelining, which the server does not do) closes the
    connection after the answer instead."""
    # 64 bytes of body a byte per millisecond: the answer still goes out for far longer than
    # the client's early bytes take to reach the server.
    drip = Hostile(mode="drip_body", body=b"dripped " * 8, drip_s=0.001)
    async with HostileServer(drip, drip, drip, keep_alive=True) as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(_request())
        for cut in (3, _request().index(b"\n") + 1):  # "POS"; then "POST ... HTTP/1.1\r\n"
            _, headers = await _head(reader)
            early = _request()
            writer.write(early[:cut])  # mid-answer
            await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 10)
            writer.write(early[cut:])
        _, headers = await _head(reader)
        assert headers["connection"] == "keep-alive"
        writer.write(_request())  # a whole request while the third answer is going out
        await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 10)
        assert await _closed(reader)
        writer.close()
        await server.wait_idle()
    assert [(r.method, r.body) for r in server.received] == [("POST", BODY)] * 3


async def test_by_default_every_connection_carries_one_request() -> None:
    async with HostileServer() as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(_request())
        _, headers, _ = await _answer(reader)
        assert headers["connection"] == "close"
        assert await _closed(reader)
        writer.close()


async def test_the_client_reuses_connections_across_hostile_answers() -> None:
    """The client's pool keeps a connection after a polite error answer and drops it after a
    hostile one; every call still ends as documented. Seven calls, three connections: the first
    carries the 200s and the 529 until the reset; the second, a 200 until the garbage status."""
    answers = (
        Hostile(),
        Hostile(status=529, headers={"retry-after": "inf"}),
        Hostile(),
        Hostile(mode="reset_after_headers"),
        Hostile(),
        Hostile(mode="garbage_status"),
        Hostile(),
    )
    async with HostileServer(*answers, keep_alive=True) as server:
        provider = AnthropicProvider(base_url=server.url, api_key="k", max_retries=0)
        errors: list[type[cr.ClauderouteError] | None] = []
        async with cr.AsyncClient(providers=[provider]) as client:
            for _ in answers:
                try:
                    await client.messages.create(
                        model="claude-haiku-4-5",
                        max_tokens=8,
                        messages=[{"role": "user", "content": "hi"}],
                    )
                    errors.append(None)
                except cr.ClauderouteError as exc:
                    errors.append(type(exc))
        await server.wait_idle()
    assert errors == [
        None,
        cr.OverloadedError,
        None,
        cr.ConnectError,
        None,
        cr.MalformedResponse,
        None,
    ]
    assert server.connections == 3
