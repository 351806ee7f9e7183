"""The synchronous client's resources: each method runs its ``AsyncClient`` twin on the
client's loop (``Runner.run``); pages, streams and downloads iterate synchronously."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, cast, overload

from ._resources._pages import AsyncPage, AsyncPaginator
from ._resources._raw import AsyncStream, RawResponse
from ._resources.batches import Batches
from ._resources.files import BinaryResponse, Files
from ._resources.models import Models
from ._resources.skills import Skills, SkillVersions
from .types._objects import ApiObject
from .types._stream import TextDelta

if TYPE_CHECKING:
    import os
    from typing import Unpack

    from ._resources._kwargs import (
        CountTokensKwargs,
        CreateKwargs,
        CreateMaybeStreamKwargs,
        CreateStreamKwargs,
        StreamKwargs,
    )
    from ._resources.beta import Beta
    from ._resources.messages import Messages, StreamManager
    from ._streaming import MessageStream
    from ._sync import Runner
    from .types._batches import MessageBatchIndividualResponse  # noqa: F401 (string base)
    from .types._messages import Message, MessageTokensCount, RouteInfo
    from .types._stream import StreamEvent  # noqa: F401 (string base)

__all__ = ["Stream", "SyncMessageStream", "SyncMessages", "SyncPage"]

P = ParamSpec("P")
R = TypeVar("R")
X = TypeVar("X")
T = TypeVar("T", bound=ApiObject)


class _Resource:
    def __init__(self, inner: Any, runner: Runner) -> None:
        self._async = inner
        self._runner = runner


class _Bridge(Generic[P, R]):
    """A method of a sync resource: the async twin's method of the same name, run on the loop,
    its result passed through ``convert(result, runner)``."""

    def __init__(self, fn: Callable[Concatenate[Any, P], Any],
                 convert: Callable[[Any, Runner], R] | None = None) -> None:
        self._name = fn.__name__
        self._doc = fn.__doc__
        self._convert = convert

    @overload
    def __get__(self, obj: None, owner: type) -> _Bridge[P, R]: ...
    @overload
    def __get__(self, obj: _Resource, owner: type) -> Callable[P, R]: ...
    def __get__(self, obj: _Resource | None, owner: type) -> _Bridge[P, R] | Callable[P, R]:
        if obj is None:
            return self
        method = getattr(obj._async, self._name)
        runner, convert = obj._runner, self._convert

        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            result = method(*args, **kwargs)
            if isinstance(result, AsyncPaginator):
                result = runner.run(_first(result))
            elif hasattr(result, "__await__"):
                result = runner.run(_awaited(result))
            return convert(result, runner) if convert is not None else cast(R, result)
        call.__doc__ = self._doc
        return call


async def _awaited(value: Awaitable[X]) -> X:
    return await value


async def _first(paginator: AsyncPaginator[T]) -> AsyncPage[T]:
    return await paginator


def bridge(fn: Callable[Concatenate[Any, P], Awaitable[R]]) -> _Bridge[P, R]:
    """The sync twin of an ``async def`` method."""
    return _Bridge(fn)


def pages(fn: Callable[Concatenate[Any, P], AsyncPaginator[T]]) -> _Bridge[P, SyncPage[T]]:
    """The sync twin of a ``list`` method: the first page, iterating every item."""
    return _Bridge(fn, SyncPage)


class SyncPage(Generic[T]):
    """One page of a list: ``data`` and the cursors; iterating it walks every item of this page
    and the pages after it (fetched as needed), as the SDK's ``SyncPage``."""

    def __init__(self, page: AsyncPage[T], runner: Runner) -> None:
        self._page = page
        self._runner = runner
        self.data = page.data
        self.has_more = page.has_more
        self.first_id = page.first_id
        self.last_id = page.last_id
        self.next_page = page.next_page
        self.provider = page.provider

    def __repr__(self) -> str:
        return repr(self._page).replace("<AsyncPage", "<SyncPage", 1)

    def has_next_page(self) -> bool:
        """Whether another page follows."""
        return self._page.has_next_page()

    def get_next_page(self) -> SyncPage[T]:
        """Fetch the next page (from the same provider)."""
        return SyncPage(self._runner.run(self._page.get_next_page()), self._runner)

    def iter_pages(self) -> Iterator[SyncPage[T]]:
        """This page and every later one."""
        page = self
        yield page
        while page.has_next_page():
            page = page.get_next_page()
            yield page

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.data


class _SyncIterable(Generic[X]):
    """An async iterable with an async close, iterated and closed synchronously."""

    def __init__(self, inner: Any, runner: Runner) -> None:
        self._async = inner
        self._runner = runner
        self._iter: Iterator[X] | None = None

    def __iter__(self) -> Iterator[X]:
        if self._iter is None:
            self._iter = self._runner.iterate(self._async.__aiter__())
        return self._iter

    def __next__(self) -> X:
        return next(iter(self))

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection if it is still open."""
        if self._iter is not None:
            self._iter.close()  # type: ignore[attr-defined]
        closer = getattr(self._async, "aclose", None) or self._async.close
        if not self._runner.closed:
            self._runner.run(closer())


class Stream(_SyncIterable["StreamEvent"]):
    """``client.messages.create(..., stream=True)``: the raw events, iterated synchronously
    (``for event in stream``), as the SDK's ``Stream``.

    .. versionadded:: 0.2
    """

    _async: AsyncStream

    @property
    def route(self) -> RouteInfo:
        """Which provider serves the stream."""
        return self._async.route


class SyncBatchResults(_SyncIterable["MessageBatchIndividualResponse"]):
    """A batch's results, iterated synchronously (``for result in results``)."""

    @property
    def provider(self) -> str:
        """The provider that holds the batch."""
        return str(self._async.provider)


class SyncBinaryResponse:
    """A file's content as it streams: ``read()``, ``iter_bytes()`` or ``write_to_file()``."""

    def __init__(self, inner: BinaryResponse, runner: Runner) -> None:
        self._async = inner
        self._runner = runner
        self.provider = inner.provider
        self.headers = inner.headers

    @property
    def content_type(self) -> str | None:
        """The ``content-type`` the platform sent."""
        return self._async.content_type

    def iter_bytes(self) -> Iterator[bytes]:
        """The content, chunk by chunk."""
        return self._runner.iterate(self._async.iter_bytes())

    def read(self) -> bytes:
        """The whole content (for small files)."""
        return self._runner.run(self._async.read())

    def write_to_file(self, path: str | os.PathLike[str]) -> int:
        """Stream the content to ``path``; returns the number of bytes written."""
        return self._runner.run(self._async.write_to_file(path))

    def close(self) -> None:
        """Drop the connection without reading."""
        self._runner.run(self._async.close())

    def __enter__(self) -> SyncBinaryResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SyncMessageStream(_SyncIterable["StreamEvent"]):
    """A routed stream, iterated synchronously, shaped like the SDK's ``MessageStream``."""

    _async: MessageStream

    @property
    def route(self) -> RouteInfo:
        """Which provider serves the stream, and the attempts it took."""
        return self._async.route

    @property
    def current_message_snapshot(self) -> Message | None:
        """The message accumulated so far."""
        return self._async.current_message_snapshot

    @property
    def text_stream(self) -> Iterator[str]:
        """Only the text, fragment by fragment."""
        for ev in self:
            if ev.type == "content_block_delta" and isinstance(ev.delta, TextDelta):  # type: ignore[union-attr]
                yield ev.delta.text  # type: ignore[union-attr]

    def until_done(self) -> None:
        """Read every remaining event."""
        self._runner.run(self._async.until_done())

    def get_final_message(self) -> Message:
        """Read to the end; the complete ``Message`` (with ``.route``)."""
        return self._runner.run(self._async.get_final_message())

    def get_final_text(self) -> str:
        """Read to the end; the text of every ``text`` block, joined."""
        return self._runner.run(self._async.get_final_text())

    def __enter__(self) -> SyncMessageStream:
        return self


class SyncStreamManager:
    """``with client.messages.stream(...) as stream`` — opens on enter, closes on exit."""

    def __init__(self, manager: StreamManager, runner: Runner) -> None:
        self._manager = manager
        self._runner = runner
        self._stream: SyncMessageStream | None = None

    def __enter__(self) -> SyncMessageStream:
        self._stream = SyncMessageStream(self._runner.run(self._manager.open()), self._runner)
        return self._stream

    def __exit__(self, *exc: object) -> None:
        if self._stream is not None:
            self._stream.close()


class SyncBatches(_Resource):
    """``client.messages.batches``."""

    create = bridge(Batches.create)
    retrieve = bridge(Batches.retrieve)
    cancel = bridge(Batches.cancel)
    delete = bridge(Batches.delete)
    list = pages(Batches.list)
    results = _Bridge(Batches.results, SyncBatchResults)
    wait_until_ended = bridge(Batches.wait_until_ended)


class SyncMessagesWithRawResponse(_Resource):
    """``client.messages.with_raw_response``: ``parse()`` gives the object."""

    def create(self, **params: Unpack[CreateKwargs]) -> RawResponse[Message]:
        """``messages.create(...)`` with the HTTP status and headers."""
        return RawResponse.of(self._runner.run(self._async.create(**params)))

    def count_tokens(self, **params: Unpack[CountTokensKwargs]
                     ) -> RawResponse[MessageTokensCount]:
        """``messages.count_tokens(...)`` with the HTTP status and headers."""
        return RawResponse.of(self._runner.run(self._async.count_tokens(**params)))


class SyncMessages(_Resource):
    """``client.messages`` of the synchronous client."""

    _async: Messages

    def __init__(self, inner: Messages, runner: Runner) -> None:
        super().__init__(inner, runner)
        self.batches = SyncBatches(inner.batches, runner)
        self.with_raw_response = SyncMessagesWithRawResponse(inner.with_raw_response, runner)

    @overload
    def create(self, **params: Unpack[CreateKwargs]) -> Message: ...
    @overload
    def create(self, **params: Unpack[CreateStreamKwargs]) -> Stream: ...
    @overload
    def create(self, **params: Unpack[CreateMaybeStreamKwargs]) -> Message | Stream: ...
    def create(self, **params: Any) -> Message | Stream:
        """``AsyncClient.messages.create``, waited for; ``stream=True`` gives a ``Stream``."""
        result = self._runner.run(self._async.create(**params))
        return Stream(result, self._runner) if isinstance(result, AsyncStream) else result

    def stream(self, **params: Unpack[StreamKwargs]) -> SyncStreamManager:
        """``with client.messages.stream(...) as stream``: see ``AsyncClient.messages.stream``."""
        return SyncStreamManager(self._async.stream(**params), self._runner)

    def count_tokens(self, **params: Unpack[CountTokensKwargs]) -> MessageTokensCount:
        """Count the input tokens of a request without running it."""
        return self._runner.run(self._async.count_tokens(**params))


class SyncModels(_Resource):
    """``client.models``."""

    list = pages(Models.list)
    retrieve = bridge(Models.retrieve)


class SyncFiles(_Resource):
    """``client.beta.files``."""

    upload = bridge(Files.upload)
    list = pages(Files.list)
    retrieve_metadata = bridge(Files.retrieve_metadata)
    download = _Bridge(Files.download, SyncBinaryResponse)
    delete = bridge(Files.delete)


class SyncSkillVersions(_Resource):
    """``client.beta.skills.versions``."""

    create = bridge(SkillVersions.create)
    list = pages(SkillVersions.list)
    retrieve = bridge(SkillVersions.retrieve)
    delete = bridge(SkillVersions.delete)


class SyncSkills(_Resource):
    """``client.beta.skills``."""

    def __init__(self, inner: Skills, runner: Runner) -> None:
        super().__init__(inner, runner)
        self.versions = SyncSkillVersions(inner.versions, runner)

    create = bridge(Skills.create)
    list = pages(Skills.list)
    retrieve = bridge(Skills.retrieve)
    delete = bridge(Skills.delete)


class SyncBeta:
    """``client.beta`` of the synchronous client."""

    def __init__(self, inner: Beta, runner: Runner) -> None:
        self.files = SyncFiles(inner.files, runner)
        self.skills = SyncSkills(inner.skills, runner)
