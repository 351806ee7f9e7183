"""Emulated Models and Message Batches: ``/v1/models`` and ``/v1/messages/batches``, in memory.

A batch is ``in_progress`` when created and ends after ``batch_polls_to_end`` retrieves (or
``end_batches()``): each request then succeeds with the emulator's reply, or errors when its
params are invalid (no ``max_tokens``, or a model named ``invalid-…``). Results are written as
JSONL one line at a time, computed as they are sent.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import msgspec
from aiohttp import web

from clauderoute.provider import (
    BATCHES_CANCEL,
    BATCHES_CREATE,
    BATCHES_DELETE,
    BATCHES_LIST,
    BATCHES_RESULTS,
    BATCHES_RETRIEVE,
    MODELS_LIST,
    MODELS_RETRIEVE,
    catalog,
    retirement,
)

from ._emulator_state import ResourceBase, now

__all__ = ["BatchesMixin", "default_models"]

_json = msgspec.json.Encoder()
MB = 1024 * 1024


def _display(name: str) -> str:
    words = name.split("-")
    nums = [w for w in words if w.isdigit()]
    return " ".join([w.title() for w in words if not w.isdigit()] + [".".join(nums)])


def default_models() -> list[dict[str, Any]]:
    """The catalog's Claude API models as ``/v1/models`` lists them (dated ids, newest first),
    without those retired on the Claude API (it no longer lists them)."""
    out: list[dict[str, Any]] = []
    today = date.today()
    for name, facts in catalog().items():
        gone = retirement("anthropic", name, facts)
        if "anthropic" not in facts or (gone is not None and gone[0] <= today):
            continue
        created = date(2026, 11, 1) - timedelta(days=7 * len(out))  # newest first
        out.append({"type": "model", "id": facts.get("dated", facts["anthropic"]),
                    "display_name": _display(name),
                    "created_at": f"{created.isoformat()}T00:00:00Z",
                    "alias": facts["anthropic"]})
    return out


class BatchesMixin(ResourceBase):
    """Models and Message Batches state and handlers."""

    #: retrieves of an in-progress batch before it ends.
    batch_polls_to_end = 1
    max_batch_bytes = 256 * MB
    max_batch_requests = 100_000

    def init_batches(self) -> None:
        self.models: list[dict[str, Any]] = default_models()
        self.batches: dict[str, dict[str, Any]] = {}

    def batch_routes(self) -> list[web.RouteDef]:
        b = "/v1/messages/batches"
        return [web.get("/v1/models", self._models_list),
                web.get("/v1/models/{model_id}", self._models_get),
                web.post(b, self._batch_create), web.get(b, self._batch_list),
                web.get(b + "/{id}", self._batch_get), web.delete(b + "/{id}", self._batch_delete),
                web.post(b + "/{id}/cancel", self._batch_cancel),
                web.get(b + "/{id}/results", self._batch_results)]

    # --- models ---------------------------------------------------------------------------------

    @staticmethod
    def _public(model: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in model.items() if k != "alias"}

    async def _models_list(self, request: web.Request) -> web.Response:
        if (early := await self.begin(request, MODELS_LIST)) is not None:
            return early
        return self.page(request, [self._public(m) for m in self.models])

    async def _models_get(self, request: web.Request) -> web.Response:
        if (early := await self.begin(request, MODELS_RETRIEVE)) is not None:
            return early
        mid = request.match_info["model_id"]
        for m in self.models:
            if mid in (m["id"], m.get("alias")):
                return self.reply(self._public(m))
        return self.not_found("model", mid)

    # --- batches --------------------------------------------------------------------------------

    async def _batch_create(self, request: web.Request) -> web.Response:
        body = await request.read()
        if (early := await self.begin(request, BATCHES_CREATE, body=body)) is not None:
            return early
        if len(body) > self.max_batch_bytes:
            return self.fail(413, "request_too_large",
                             "Request exceeds the maximum allowed number of bytes.")
        data = self.decode_json(body)  # type: ignore[attr-defined]
        reqs = data.get("requests") if data else None
        if not isinstance(reqs, list) or not reqs:
            return self.fail(400, "invalid_request_error", "requests: Field required")
        if len(reqs) > self.max_batch_requests:
            return self.fail(400, "invalid_request_error",
                             f"requests: at most {self.max_batch_requests} requests")
        ids = [r.get("custom_id") if isinstance(r, dict) else None for r in reqs]
        for i, (r, cid) in enumerate(zip(reqs, ids, strict=True)):
            if not isinstance(cid, str) or not isinstance(r.get("params"), dict):
                return self.fail(400, "invalid_request_error",
                                 f"requests.{i}: custom_id and params are required")
        if len(set(ids)) != len(ids):
            return self.fail(400, "invalid_request_error", "requests: custom_id must be unique")
        bid = self.new_object_id("msgbatch_")
        obj = {"id": bid, "type": "message_batch", "processing_status": "in_progress",
               "request_counts": {"processing": len(reqs), "succeeded": 0, "errored": 0,
                                  "canceled": 0, "expired": 0},
               "ended_at": None, "created_at": now(), "expires_at": now(86400),
               "archived_at": None, "cancel_initiated_at": None, "results_url": None}
        self.batches = {bid: {"obj": obj, "requests": reqs, "polls": 0, "canceled": False},
                        **self.batches}
        return self.reply(obj)

    @staticmethod
    def _fails(params: dict[str, Any]) -> str | None:
        if not isinstance(params.get("max_tokens"), int):
            return "max_tokens: Field required"
        if str(params.get("model", "")).startswith("invalid"):
            return f"model: {params.get('model')!r} is not a model"
        return None

    def end_batches(self) -> None:
        """End every in-progress batch now (as if the processing finished)."""
        for b in self.batches.values():
            self._end(b)

    def _end(self, b: dict[str, Any]) -> None:
        obj = b["obj"]
        if obj["processing_status"] == "ended":
            return
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        for r in b["requests"]:
            kind = ("canceled" if b["canceled"] else
                    "errored" if self._fails(r["params"]) else "succeeded")
            counts[kind] += 1
        root = self.url  # type: ignore[attr-defined]  # the API root, under any path prefix
        obj.update(processing_status="ended", request_counts=counts, ended_at=now(),
                   results_url=f"{root}/v1/messages/batches/{obj['id']}/results")

    async def _batch(self, request: web.Request, operation: str, *,
                     ended_for: str | None = None) -> tuple[Any, web.Response | None]:
        """The batch a request names, or the early answer: the common checks (auth, faults),
        404 for an unknown id, and with ``ended_for`` a 400 unless the batch has ended."""
        if (early := await self.begin(request, operation)) is not None:
            return None, early
        b = self.batches.get(request.match_info["id"])
        if b is None:
            return None, self.not_found("message batch", request.match_info["id"])
        if ended_for is not None and b["obj"]["processing_status"] != "ended":
            return None, self.fail(400, "invalid_request_error", ended_for)
        return b, None

    async def _batch_get(self, request: web.Request) -> web.Response:
        b, early = await self._batch(request, BATCHES_RETRIEVE)
        if early is not None:
            return early
        b["polls"] += 1
        if b["polls"] >= self.batch_polls_to_end or b["canceled"]:
            self._end(b)
        return self.reply(b["obj"])

    async def _batch_list(self, request: web.Request) -> web.Response:
        if (early := await self.begin(request, BATCHES_LIST)) is not None:
            return early
        return self.page(request, [b["obj"] for b in self.batches.values()])

    async def _batch_cancel(self, request: web.Request) -> web.Response:
        b, early = await self._batch(request, BATCHES_CANCEL)
        if early is not None:
            return early
        obj = b["obj"]
        if obj["processing_status"] == "in_progress":
            b["canceled"] = True
            obj.update(processing_status="canceling", cancel_initiated_at=now())
        return self.reply(obj)

    async def _batch_delete(self, request: web.Request) -> web.Response:
        b, early = await self._batch(request, BATCHES_DELETE, ended_for=(
            "a batch must end (or be canceled) before it can be deleted"))
        if early is not None:
            return early
        del self.batches[b["obj"]["id"]]
        return self.reply({"id": b["obj"]["id"], "type": "message_batch_deleted"})

    async def _batch_results(self, request: web.Request) -> web.StreamResponse:
        b, early = await self._batch(request, BATCHES_RESULTS, ended_for=(
            "results are available once the batch has ended"))
        if early is not None:
            return early
        resp = web.StreamResponse(headers=self.response_headers())  # type: ignore[attr-defined]
        resp.content_type = "application/binary"
        await resp.prepare(request)
        for r in b["requests"]:
            await resp.write(_json.encode(self._result(b, r)) + b"\n")
        await resp.write_eof()
        return resp

    def _result(self, b: dict[str, Any], r: dict[str, Any]) -> dict[str, Any]:
        params = r["params"]
        if b["canceled"]:
            return {"custom_id": r["custom_id"], "result": {"type": "canceled"}}
        why = self._fails(params)
        if why is not None:
            err = {"type": "error", "error": {"type": "invalid_request_error", "message": why}}
            return {"custom_id": r["custom_id"], "result": {"type": "errored", "error": err}}
        msg = self.responder(params, params["model"], self.new_id())  # type: ignore[attr-defined]
        return {"custom_id": r["custom_id"], "result": {"type": "succeeded", "message": msg}}
