"""``client.messages.batches``: the Message Batches API, on the one provider that holds a batch.

Results are read as JSON Lines, one line at a time as the bytes arrive, so a results file far
larger than memory can be walked. Limits are checked before anything is sent.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import _errors as E
from .._engine import StreamResponse
from .._jsonl import JSONLDecoder
from .._operations import (
    BATCHES_CANCEL,
    BATCHES_CREATE,
    BATCHES_DELETE,
    BATCHES_LIST,
    BATCHES_RESULTS,
    BATCHES_RETRIEVE,
)
from .._validate import validate_create
from ..types._batches import (
    DeletedMessageBatch,
    MessageBatch,
    MessageBatchIndividualResponse,
    decode_result_line,
)
from ._base import Resource, json_attempt, make_call, object_decoder, stream_attempt
from ._pages import AsyncPaginator

if TYPE_CHECKING:
    from .._client import AsyncClient

__all__ = ["BatchResults", "Batches"]

#: The Claude API's limit on requests per batch (its 256 MB size limit is the provider's
#: ``Capabilities.max_body_bytes`` for ``batches.create``). A provider may set
#: ``max_batch_requests`` to its own.
MAX_BATCH_REQUESTS = 100_000
_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _check_requests(requests: Any, limit: int) -> None:
    if not isinstance(requests, Sequence) or isinstance(requests, str | bytes) or not requests:
        raise E.InvalidRequest("must be a non-empty list of {custom_id, params}",
                               field="requests")
    if len(requests) > limit:
        raise E.InvalidRequest(f"{len(requests)} requests, over the limit of {limit} per batch",
                               field="requests")
    seen: set[str] = set()
    for i, r in enumerate(requests):
        where = f"requests[{i}]"
        if not isinstance(r, Mapping):
            raise E.InvalidRequest("must be an object with custom_id and params", field=where)
        cid = r.get("custom_id")
        if not isinstance(cid, str) or not _CUSTOM_ID.match(cid):
            raise E.InvalidRequest("must be 1-64 letters, digits, '-' or '_'",
                                   field=where + ".custom_id")
        if cid in seen:
            raise E.InvalidRequest(f"duplicate custom_id {cid!r}", field=where + ".custom_id")
        seen.add(cid)
        params = r.get("params")
        if not isinstance(params, Mapping):
            raise E.InvalidRequest("must be a Messages request object", field=where + ".params")
        try:
            validate_create(dict(params))
        except E.InvalidRequest as exc:
            text = str(exc)
            if exc.field and text.startswith(exc.field + ": "):
                text = text[len(exc.field) + 2:]
            field = f"{where}.params" + (f".{exc.field}" if exc.field else "")
            raise E.InvalidRequest(text, field=field) from None


class BatchResults:
    """A batch's results as they stream in: ``async for result in results``. Close it (or use
    ``async with``) if you stop early."""

    def __init__(self, response: StreamResponse, provider: str) -> None:
        self._response = response
        self.provider = provider

    async def __aiter__(self) -> AsyncIterator[MessageBatchIndividualResponse]:
        decoder = JSONLDecoder(self._response.max_bytes)  # one line never ends: a typed error
        try:
            async for chunk in self._response.chunks():
                for line in decoder.feed(chunk):
                    yield self._decode(line)
            for line in decoder.end():
                yield self._decode(line)
        finally:
            self._response.release()

    def _decode(self, line: bytes) -> MessageBatchIndividualResponse:
        try:
            item = decode_result_line(line)
        except ValueError as exc:  # msgspec's errors are ValueErrors
            raise E.MalformedResponse(f"bad batch result line: {exc}",
                                      platform=self.provider) from exc
        vars(item)["_provider"] = self.provider
        return item

    async def aclose(self) -> None:
        """Drop the connection."""
        self._response.close()

    async def __aenter__(self) -> BatchResults:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class Batches(Resource):
    """Message Batches. Each method takes ``provider=`` to pin the call; otherwise a batch id
    goes to the provider that created or listed it, and a new batch to the first configured
    provider that offers batches."""

    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client)

    async def create(self, *, requests: Sequence[Mapping[str, Any]],
                     provider: str | None = None, timeout: float | None = None,
                     deadline: float | None = None, betas: Sequence[str] | None = None,
                     extra_headers: Mapping[str, str] | None = None) -> MessageBatch:
        """Create a batch of Messages requests (``[{custom_id, params}]``).

        Raises:
            InvalidRequest: a request is wrong, or too many (the field names which), before
                any network call.
            RequestTooLarge: the encoded batch is over the provider's size limit (256 MB).
            CapabilityError: the provider has no batches.

        .. versionadded:: 0.2
        """
        probe = make_call(BATCHES_CREATE, betas=betas, extra_headers=extra_headers)
        p = self.target(probe, provider, None)
        _check_requests(requests, getattr(p, "max_batch_requests", MAX_BATCH_REQUESTS))
        wire = [{**r, "params": {**r["params"], "model": p.model_id(str(r["params"]["model"]))}}
                for r in requests]
        call = make_call(BATCHES_CREATE, body={"requests": wire}, betas=betas,
                         extra_headers=extra_headers)
        result: MessageBatch = await self._run(call, json_attempt(object_decoder(MessageBatch)),
                                               chosen=p, timeout=timeout, deadline=deadline)
        return result

    async def _one(self, op: str, batch_id: str, typ: Any, provider: str | None,
                   timeout: float | None, extra_headers: Mapping[str, str] | None) -> Any:
        call = make_call(op, path={"batch_id": batch_id}, extra_headers=extra_headers)
        return await self._run(call, json_attempt(object_decoder(typ)), provider=provider,
                               object_id=batch_id, timeout=timeout)

    async def retrieve(self, message_batch_id: str, *, provider: str | None = None,
                       timeout: float | None = None,
                       extra_headers: Mapping[str, str] | None = None) -> MessageBatch:
        """The batch's current state. .. versionadded:: 0.2"""
        result: MessageBatch = await self._one(BATCHES_RETRIEVE, message_batch_id, MessageBatch,
                                               provider, timeout, extra_headers)
        return result

    async def cancel(self, message_batch_id: str, *, provider: str | None = None,
                     timeout: float | None = None,
                     extra_headers: Mapping[str, str] | None = None) -> MessageBatch:
        """Ask to cancel; the batch goes ``canceling``, then ``ended``. .. versionadded:: 0.2"""
        result: MessageBatch = await self._one(BATCHES_CANCEL, message_batch_id, MessageBatch,
                                               provider, timeout, extra_headers)
        return result

    async def delete(self, message_batch_id: str, *, provider: str | None = None,
                     timeout: float | None = None,
                     extra_headers: Mapping[str, str] | None = None) -> DeletedMessageBatch:
        """Delete an ended batch. .. versionadded:: 0.2"""
        result: DeletedMessageBatch = await self._one(
            BATCHES_DELETE, message_batch_id, DeletedMessageBatch, provider, timeout,
            extra_headers)
        self._homes.pop(message_batch_id, None)
        return result

    def list(self, *, limit: int | None = None, after_id: str | None = None,
             before_id: str | None = None, provider: str | None = None,
             timeout: float | None = None,
             extra_headers: Mapping[str, str] | None = None) -> AsyncPaginator[MessageBatch]:
        """List batches, newest first: ``await`` for a page, ``async for`` for all.

        .. versionadded:: 0.2
        """
        if limit is not None and (not isinstance(limit, int) or not 1 <= limit <= 1000):
            raise E.InvalidRequest("must be an integer from 1 to 1000", field="limit")
        p = self.target(make_call(BATCHES_LIST), provider, None)
        fetch = self._lister(BATCHES_LIST, MessageBatch, extra_headers=extra_headers,
                             timeout=timeout)
        return AsyncPaginator(fetch, {"limit": limit, "after_id": after_id,
                                      "before_id": before_id}, p.name)

    async def results(self, message_batch_id: str, *, provider: str | None = None,
                      timeout: float | None = None,
                      extra_headers: Mapping[str, str] | None = None) -> BatchResults:
        """Stream an ended batch's results (JSONL), one typed result at a time.

        .. versionadded:: 0.2
        """
        call = make_call(BATCHES_RESULTS, path={"batch_id": message_batch_id},
                         extra_headers={"accept": "application/binary", **(extra_headers or {})})
        p = self.target(call, provider, message_batch_id)
        response: StreamResponse = await self._run(call, stream_attempt, chosen=p,
                                                   timeout=timeout)
        return BatchResults(response, p.name)

    async def wait_until_ended(self, message_batch_id: str, *, provider: str | None = None,
                               poll_interval: float = 5.0, max_interval: float = 60.0,
                               deadline: float | None = None) -> MessageBatch:
        """Poll until the batch has ``ended``, doubling the wait up to ``max_interval``.

        Raises:
            DeadlineExceeded: still not ended after ``deadline`` seconds.

        .. versionadded:: 0.2
        """
        if poll_interval < 0 or max_interval < poll_interval:
            raise E.InvalidRequest("need 0 <= poll_interval <= max_interval",
                                   field="poll_interval")
        loop = asyncio.get_running_loop()
        end = None if deadline is None else loop.time() + deadline
        wait = poll_interval
        while True:
            batch = await self.retrieve(message_batch_id, provider=provider)
            if batch.processing_status == "ended":
                return batch
            if end is not None and loop.time() + wait > end:
                raise E.DeadlineExceeded(
                    f"batch {message_batch_id} still {batch.processing_status} after "
                    f"{deadline}s")
            await asyncio.sleep(wait)
            wait = min(wait * 2, max_interval)
