"""No network: the ``[gateway]`` table, the key ring, and the SSE cutting ``raw()`` relies on
(property-tested over every split and line-end style)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clauderoute import ConfigurationError
from clauderoute._sse import SSEEventDecoder
from clauderoute._streaming import _cut
from clauderoute.gateway import GatewayKey, KeyRing, check_listen, load_settings
from clauderoute.gateway._settings import GatewaySettings


def test_settings_plain_and_named_keys_from_env(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW_A", "secret-a-123")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[providers.direct]\nkind = "anthropic"\napi_key = "x"\n[gateway]\n'
                   'api_keys = ["${GW_A}", {name = "team-b", key = "secret-b"}]\n'
                   'max_body_mb = 1\nmax_concurrency = 7\n')
    s = load_settings(cfg)
    assert [(k.name, k.key) for k in s.named_keys()] == [("key-1", "secret-a-123"),
                                                   ("team-b", "secret-b")]
    assert s.max_body_bytes == 1024 * 1024 and s.max_concurrency == 7
    assert "secret" not in repr(s) and "secret" not in repr(s.named_keys())


@pytest.mark.parametrize(("table", "says"), [
    ('api_keys = ["${NOT_SET_ANYWHERE}"]', "NOT_SET_ANYWHERE is not set"),
    ("max_body_mb = 0", "gateway.max_body_mb"),
    ("max_concurrency = -1", "gateway.max_concurrency"),
    ("unknown = 1", "unknown key"),
    ('api_keys = [""]', "gateway.api_keys[0]: the key is empty"),
    ('api_keys = [{name = "a", key = "k1"}, {name = "a", key = "k2"}]', "used twice"),
    ('api_keys = [{name = "a", key = 5}]', "not shown"),
])
def test_settings_errors_name_the_key_never_the_value(tmp_path: Path, table: str,
                                                      says: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f"[gateway]\n{table}\n")
    with pytest.raises(ConfigurationError) as info:
        load_settings(cfg)
    assert says in str(info.value)
    assert "k1" not in str(info.value) and "k2" not in str(info.value)


def test_non_loopback_needs_keys() -> None:
    for host in ("127.0.0.1", "::1", "localhost"):
        check_listen(host, GatewaySettings())
    for host in ("0.0.0.0", "192.168.1.2", "::", "example.org"):
        with pytest.raises(ConfigurationError, match="api_keys"):
            check_listen(host, GatewaySettings())
        check_listen(host, GatewaySettings(api_keys=["k"]))


def test_key_ring() -> None:
    ring = KeyRing([GatewayKey("a", "key-a"), GatewayKey("b", "key-b")])
    assert ring.identify({"x-api-key": "key-b"}) == "b"
    assert ring.identify({"authorization": "Bearer key-a"}) == "a"
    assert ring.identify({"authorization": "bearer key-a"}) == "a"
    assert ring.identify({"x-api-key": "key-a", "authorization": "Bearer key-b"}) == "a"
    for bad in ({}, {"x-api-key": ""}, {"x-api-key": "key-"}, {"x-api-key": "key-a "},
                {"authorization": "Basic key-a"}, {"x-api-key": "\udcff"}):
        assert ring.identify(bad) is None
    assert "key-a" not in repr(ring)
    assert KeyRing([]).identify({}) == "open"


_EVENTS = [b'{"type":"ping"}', b'{"type":"message_stop"}',
           b'{"type":"content_block_stop","index":0}']


@given(st.lists(st.sampled_from(_EVENTS), min_size=1, max_size=6),
       st.sampled_from([b"\n", b"\r\n", b"\r"]), st.data())
def test_cut_gives_whole_events_for_every_split(events: list[bytes], nl: bytes,
                                                data: st.DataObject) -> None:
    """However the bytes are split into chunks, and whatever the line ends, each forwarded
    piece holds whole events, and the pieces decode to exactly the events of the whole."""
    wire = b"".join(b"event: x" + nl + b"data: " + e + nl + nl for e in events)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=8)))
    chunks = [wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True)]
    whole = SSEEventDecoder().feed(wire)
    decoder, tail, out = SSEEventDecoder(), b"", []
    for chunk in chunks:
        if not decoder.feed(chunk):
            tail += chunk
            continue
        piece, tail = _cut(tail + chunk)
        assert SSEEventDecoder().feed(piece), "each piece holds whole events"
        out.append(piece)
    assert SSEEventDecoder().feed(b"".join(out)) == whole
