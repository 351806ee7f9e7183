"""The Bedrock path (issue #3): clients of ``_bedrock_server.py`` (``BedrockEmulator``).

* ``bedrock-aiohttp`` (the floor): one ``ClientSession``, a prebuilt body and the Bedrock API-key
  bearer header (no signing: nothing can do less), ``msgspec`` decoding, and for streams a
  hand-written split of the AWS event-stream frames (lengths only: no CRC check, no header
  parsing), then the ``{"bytes": base64}`` payload decoded and the Claude event inside it;
* ``bedrock-sigv4``: ``AsyncClient`` with ``BedrockProvider(access_key=..., secret_key=...)``:
  every request signed with clauderoute's own SigV4 signer (proven equal to botocore's), streams
  through clauderoute's own event-stream decoder (CRCs checked) — the default way in;
* ``bedrock-apikey``: the same provider with the Bedrock API key (bearer, no signing);
* ``bedrock-sdk``: the official ``anthropic.AsyncAnthropicBedrock`` with the same SigV4 keys.

clauderoute's clients run with ``tracing=False`` *and* with the default tracing off-SDK being a
no-op, so the figure is the Bedrock path; each answer is checked (``pong <prompt>`` and, for a
stream of ``n`` deltas, the ``n`` words and ``n + 8`` wire events).
"""

from __future__ import annotations

import base64
from typing import Any

import msgspec
from _clients import EXPECTED, PROMPT, Driver, MessagesDriver, WrongAnswer
from _server import expected_stream_text

MODEL = "claude-haiku-4-5"
MODEL_ID = "us.anthropic.claude-haiku-4-5-20251001-v1:0"  # what BedrockProvider resolves it to
REGION = "us-east-1"
MAX_TOKENS = 1024  # creates: no extra words (see _bedrock_server.py)
BEDROCK_VERSION = "bedrock-2023-05-31"


def _params(max_tokens: int = MAX_TOKENS, model: str = MODEL) -> dict[str, Any]:
    return {"model": model, "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": PROMPT}]}


class BedrockDriver(Driver):
    def expect(self, deltas: int) -> tuple[str, int]:
        # "pong", " hello", " benchmark", then the words: deltas + 3 text deltas, 5 more events
        return EXPECTED + expected_stream_text(deltas), deltas + 8


class BedrockFloor(BedrockDriver):
    name = "bedrock-aiohttp"

    async def start(self) -> None:
        import aiohttp
        from clauderoute_bedrock.emulator import API_KEY

        self._session = aiohttp.ClientSession()
        root = f"{self.url}/model/{MODEL_ID}"
        self._invoke, self._stream = root + "/invoke", root + "/invoke-with-response-stream"
        self._headers = {"authorization": f"Bearer {API_KEY}", "content-type": "application/json",
                         "accept": "application/json"}
        self._sheaders = dict(self._headers, accept="application/vnd.amazon.eventstream")
        self._sbodies: dict[int, bytes] = {}
        self._decode = msgspec.json.decode

    def _body(self, max_tokens: int) -> bytes:
        body = self._sbodies.get(max_tokens)
        if body is None:  # prebuilt once per size, outside the measured calls after warm-up
            params = _params(max_tokens)
            del params["model"]
            params["anthropic_version"] = BEDROCK_VERSION
            body = self._sbodies[max_tokens] = msgspec.json.encode(params)
        return body

    async def create(self) -> None:
        async with self._session.post(self._invoke, data=self._body(MAX_TOKENS),
                                      headers=self._headers) as r:
            body = await r.read()
        if r.status != 200:
            raise WrongAnswer(f"{self.name} create: HTTP {r.status}")
        self._check_create(self._decode(body)["content"][0]["text"])

    async def stream(self, deltas: int) -> None:
        decode, b64, parts, events, buf = self._decode, base64.b64decode, [], 0, b""
        async with self._session.post(self._stream, data=self._body(deltas),
                                      headers=self._sheaders) as r:
            if r.status != 200:
                raise WrongAnswer(f"{self.name} stream: HTTP {r.status}")
            async for chunk in r.content.iter_any():
                buf += chunk
                pos, end = 0, len(buf)
                while end - pos >= 12:
                    total = int.from_bytes(buf[pos:pos + 4], "big")
                    if end - pos < total:
                        break
                    start = pos + 12 + int.from_bytes(buf[pos + 4:pos + 8], "big")
                    ev = decode(b64(decode(buf[start:pos + total - 4])["bytes"]))
                    pos += total
                    events += 1
                    if ev["type"] == "content_block_delta":
                        parts.append(ev["delta"]["text"])
                buf = buf[pos:]
        self._check_stream(deltas, "".join(parts), events)

    async def close(self) -> None:
        await self._session.close()


class BedrockSigV4(BedrockDriver, MessagesDriver):
    name = "bedrock-sigv4"

    def _credentials(self) -> dict[str, str]:
        from clauderoute_bedrock.emulator import ACCESS_KEY, SECRET_KEY

        return {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY}

    async def start(self) -> None:
        from clauderoute_bedrock import BedrockProvider

        from clauderoute import AsyncClient

        provider = BedrockProvider(name="b1", base_url=self.url, region=REGION,
                                   **self._credentials())
        self._client = AsyncClient(providers=[provider], tracing=False)

    def params(self, max_tokens: int = MAX_TOKENS) -> dict[str, Any]:
        return _params(max_tokens)


class BedrockApiKey(BedrockSigV4):
    name = "bedrock-apikey"

    def _credentials(self) -> dict[str, str]:
        from clauderoute_bedrock.emulator import API_KEY

        return {"api_key": API_KEY}


class BedrockSDK(BedrockDriver, MessagesDriver):
    name = "bedrock-sdk"
    wire_only = True

    async def start(self) -> None:
        import anthropic
        from clauderoute_bedrock.emulator import ACCESS_KEY, SECRET_KEY

        self._client = anthropic.AsyncAnthropicBedrock(
            aws_access_key=ACCESS_KEY, aws_secret_key=SECRET_KEY, aws_region=REGION,
            base_url=self.url, max_retries=0)

    def params(self, max_tokens: int = MAX_TOKENS) -> dict[str, Any]:
        return _params(max_tokens, MODEL_ID)  # the SDK sends the Bedrock id as given


BEDROCK_DRIVERS: dict[str, type[Driver]] = {d.name: d for d in (
    BedrockFloor, BedrockSigV4, BedrockApiKey, BedrockSDK)}
