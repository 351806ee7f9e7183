"""``AsyncClient``: configuration → router → SDK-shaped resources.

Three ways to build one, first match wins:

* ``providers=[...]``: the route is those providers.
* ``api_key=``, ``auth_token=`` or ``base_url=``: one Claude API provider, as
  ``anthropic.AsyncAnthropic(...)`` takes them (the bundled provider, found through the provider
  registry like any other).
* nothing: ``./clauderoute.toml`` or ``$CLAUDEROUTE_CONFIG`` describes the route; with no file,
  one Claude API provider reads ``ANTHROPIC_API_KEY`` / ``ANTHROPIC_AUTH_TOKEN`` /
  ``ANTHROPIC_BASE_URL`` as the SDK does (``$CLAUDEROUTE_PROVIDER`` picks another platform).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, cast

from ._engine import MAX_RESPONSE_BYTES, Engine
from ._errors import ConfigurationError, InvalidRequestError
from ._provider import Provider
from ._resources.messages import Messages
from ._retry import RetryPolicy
from ._validate import check_seconds
from .routing._breaker import CircuitBreaker
from .routing._hedge import Hedging
from .routing._observe import Observer
from .routing._policy import Policy
from .routing._router import Hook, Router
from .routing._signals import Signals

if TYPE_CHECKING:
    from ._resources.beta import Beta
    from ._resources.files import Files
    from ._resources.models import Models
    from ._resources.skills import Skills

__all__ = ["NOT_GIVEN", "AsyncClient", "NotGiven"]


class NotGiven:
    """The type of ``NOT_GIVEN``: "not given", where ``None`` means something (no timeout)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()
DEFAULT_TIMEOUT = 600.0  # the official SDK's default, seconds

# Settings a config file may give; an argument given to the constructor wins over the file.
_FILE_KEYS = ("policy", "deadline", "first_token_timeout", "hedging", "signals")


def _sdk_provider(api_key: str | None, auth_token: str | None, base_url: str | None,
                  max_retries: int | NotGiven) -> Provider:
    """The one Claude API provider of ``AsyncClient(api_key=...)``, from the registry."""
    from ._config import DEFAULT_KIND  # lazy: the registry scans entry points on first use
    from ._registry import provider_class

    kwargs: dict[str, Any] = {"api_key": api_key, "auth_token": auth_token, "base_url": base_url}
    if not isinstance(max_retries, NotGiven):
        kwargs["max_retries"] = max_retries
    return provider_class(DEFAULT_KIND)(**kwargs)


def _claude_api_url(providers: Sequence[Provider]) -> str | None:
    """The address of the route's Claude API provider, if it has one."""
    from ._config import DEFAULT_KIND

    return next((p.base_url for p in providers if p.platform == DEFAULT_KIND), None)


def _with_retries(providers: Sequence[Provider], max_retries: int | NotGiven) -> list[Provider]:
    """``providers``, or copies of them with ``max_retries`` set (the originals are the
    caller's, and may serve other clients)."""
    if isinstance(max_retries, NotGiven):
        return list(providers)
    out = []
    for p in providers:
        p = copy.copy(p)
        p.max_retries = max_retries
        out.append(p)
    return out


def _check_timeout(value: object) -> None:
    if not isinstance(value, NotGiven):
        _check_settings(timeout=value)  # type: ignore[arg-type]


def _check_max_retries(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(f"max_retries: must be a whole number >= 0, not {value!r}")


class AsyncClient:
    """One async Messages interface over any number of providers, built like the SDK's.

    Args:
        api_key: a Claude API key (``x-api-key``); with ``auth_token`` and ``base_url``, as
            ``anthropic.AsyncAnthropic`` takes them. Read from ``ANTHROPIC_API_KEY`` when no
            argument and no config file says otherwise.
        auth_token: a bearer token (``ANTHROPIC_AUTH_TOKEN``).
        base_url: the Claude API's address (``ANTHROPIC_BASE_URL``).
        timeout: per-attempt timeout in seconds, or ``None`` for none (default 600, the SDK's).
            Only a number: an ``httpx.Timeout`` is refused; use ``connect_timeout`` for the
            connect phase.
        max_retries: retries per provider (default: each provider's own, 2 as in the SDK).
        default_headers: headers sent with every request.
        providers: the providers of the route, in order (instead of the three above).
        policy: how candidates are ordered per call (default: configured order, failover).
        connect_timeout: seconds to connect (SDK default 5).
        deadline: budget for a whole call, retries and failover included (default: none).
        first_token_timeout: a stream with no content this many seconds after its request was
            sent (headers included, as TTFT is measured) fails over.
        max_response_bytes: the largest answer read into memory, a whole (decompressed) body
            or one stream event (default 64 MiB); a larger one raises ``ResponseTooLargeError`` and
            fails over, like any malformed answer, without reading further. An error answer's
            body is read only up to 64 KiB whatever this says.
        retry: backoff timing.
        breaker: circuit breakers per (provider, model); ``False`` turns them off.
        hedging: opt-in hedging of slow first attempts.
        signals: rate-limit awareness, budgets, cache affinity and cost
            (``clauderoute.routing.Signals``; on by default, ``False`` turns them off).
        hooks: callables that receive each ended attempt's frozen
            ``clauderoute.routing.AttemptRecord`` (an ``AttemptInfo`` with more fields), run as
            a ``HookObserver``.
        observers: telemetry observers (see ``clauderoute.routing.Observer``).
        tracing: trace and measure calls with OpenTelemetry (a no-op until the application
            installs the SDK); ``False`` turns it off, a ``TracingObserver`` in ``observers``
            replaces the default one.

    Raises:
        ConfigurationError: a setting is wrong, or no provider could be configured (e.g. no
            credential in the arguments, the config file or the environment).

    Use ``async with AsyncClient(...) as client`` or ``await client.close()``.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2 ``api_key``, ``auth_token``, ``base_url``, ``max_retries``,
       ``default_headers``; no arguments reads the config file or the environment.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        auth_token: str | None = None,
        base_url: str | None = None,
        timeout: float | None | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | None = None,
        providers: Sequence[Provider] | None = None,
        policy: Policy | None = None,
        connect_timeout: float = 5.0,
        deadline: float | None = None,
        first_token_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | bool | None = None,
        hedging: Hedging | None = None,
        signals: Signals | bool | None = None,
        hooks: Sequence[Hook] = (),
        observers: Sequence[Observer] = (),
        tracing: bool = True,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        _check_timeout(timeout)
        _check_settings(connect_timeout=connect_timeout, deadline=deadline,
                        first_token_timeout=first_token_timeout)
        if isinstance(max_response_bytes, bool) or not isinstance(max_response_bytes, int) or \
                max_response_bytes < 1:
            raise ConfigurationError(f"max_response_bytes: must be a positive integer, not "
                                     f"{max_response_bytes!r}")
        if not isinstance(max_retries, NotGiven):
            _check_max_retries(max_retries)
        sdk = {"api_key": api_key, "auth_token": auth_token, "base_url": base_url}
        given = {"policy": policy, "deadline": deadline,
                 "first_token_timeout": first_token_timeout, "hedging": hedging,
                 "signals": signals, "breaker": breaker}
        if providers is not None:
            if any(v is not None for v in sdk.values()):
                raise ConfigurationError("give either providers= or api_key/auth_token/"
                                         "base_url (one Claude API provider), not both")
            route = _with_retries(providers, max_retries)
        elif any(v is not None for v in sdk.values()):
            route = [_sdk_provider(api_key, auth_token, base_url, max_retries)]
        else:
            from ._config import client_settings  # lazy: tomllib and plugin discovery

            settings = client_settings()
            route = _with_retries(settings["providers"], max_retries)
            given = {k: given[k] if given[k] is not None else settings.get(k) for k in given}
            if isinstance(timeout, NotGiven):
                timeout = settings.get("timeout", DEFAULT_TIMEOUT)
        if tracing:
            from .tracing import TracingObserver, default_observer  # lazy: OpenTelemetry API

            if not any(isinstance(o, TracingObserver) for o in observers):
                observers = [*observers, default_observer()]
        self._sdk_args = sdk
        self.engine = Engine(connect_timeout=connect_timeout,
                             max_response_bytes=max_response_bytes)
        self._setup(route, {**given, "timeout": DEFAULT_TIMEOUT if isinstance(
            timeout, NotGiven) else timeout, "retry": retry, "breaker": given["breaker"],
            "hooks": hooks, "observers": observers}, default_headers)

    def _setup(self, providers: list[Provider], options: dict[str, Any],
               default_headers: Mapping[str, str] | None) -> None:
        self._options = options
        o = options
        self.router = Router(providers, engine=self.engine, policy=o["policy"],
                             retry=o["retry"], timeout_s=o["timeout"], deadline_s=o["deadline"],
                             first_token_timeout_s=o["first_token_timeout"],
                             breaker=o["breaker"], hedging=o["hedging"], hooks=o["hooks"],
                             observers=o["observers"], signals=o["signals"])
        #: Headers sent with every request (the ``extra_headers`` of a call win).
        self.default_headers: dict[str, str] = dict(default_headers or {})
        self.messages = Messages(self)
        self._models: Models | None = None
        self._beta: Beta | None = None
        self._files: Files | None = None
        self._skills: Skills | None = None
        #: uploaded file or skill id -> the provider that holds it (every files and skills
        #: namespace, GA and beta, and Messages calls that name such an object, read it).
        self.object_homes: dict[str, str] = {}

    @property
    def models(self) -> Models:
        """``client.models``: the Models API (loaded on first use)."""
        if self._models is None:
            from ._resources.models import Models  # lazy: not needed to send messages

            self._models = Models(self)
        return self._models

    @property
    def files(self) -> Files:
        """``client.files``: the Files API (loaded on first use)."""
        if self._files is None:
            from ._resources.files import Files  # lazy: multipart uploads, pagination

            self._files = Files(self, self.object_homes)
        return self._files

    @property
    def skills(self) -> Skills:
        """``client.skills``: the Skills API and its versions (loaded on first use)."""
        if self._skills is None:
            from ._resources.skills import Skills  # lazy: multipart uploads, pagination

            self._skills = Skills(self, self.object_homes)
        return self._skills

    @property
    def beta(self) -> Beta:
        """``client.beta.files`` and ``client.beta.skills`` (loaded on first use: multipart
        uploads, pagination)."""
        if self._beta is None:
            from ._resources.beta import Beta  # lazy: Files, Skills, multipart

            self._beta = Beta(self)
        return self._beta

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None, *,
                    providers_registry: Mapping[str, type[Provider]] | None = None,
                    **overrides: Any) -> AsyncClient:
        """A client as a config file, or the environment alone, describes it.

        The file is ``path``, else ``$CLAUDEROUTE_CONFIG``, else ``./clauderoute.toml``; with
        none, one provider of kind ``$CLAUDEROUTE_PROVIDER`` (default: the Claude API)
        configured from its platform's environment. ``$CLAUDEROUTE_PROVIDER`` with a file pins
        the route to the provider(s) of that name or kind.

        Args:
            path: the TOML file to read.
            providers_registry: ``{kind: Provider subclass}``; bypasses entry-point discovery.
            **overrides: constructor arguments that win over the file (``deadline=``,
                ``hooks=``, ...).

        Raises:
            ConfigurationError: a key is missing or wrong (the message names it and its line).
            UnknownPlatformError: no provider is installed for a ``kind``.

        .. versionadded:: 0.1
        """
        from ._config import client_settings  # lazy: tomllib and plugin discovery on demand

        settings = client_settings(path, registry=providers_registry)
        return cls(**{**settings, **overrides})

    def with_options(self, *, api_key: str | None = None, auth_token: str | None = None,
                     base_url: str | None = None,
                     timeout: float | None | NotGiven = NOT_GIVEN,
                     max_retries: int | NotGiven = NOT_GIVEN,
                     default_headers: Mapping[str, str] | None = None,
                     deadline: float | None | NotGiven = NOT_GIVEN,
                     first_token_timeout: float | None | NotGiven = NOT_GIVEN) -> AsyncClient:
        """A copy of this client with some settings changed, sharing its connection pool,
        circuit breakers and latency statistics (as the SDK's ``with_options``/``copy``).

        ``api_key``, ``auth_token`` or ``base_url`` replace the route with one Claude API
        provider (what is not given is kept from this client's, if it was built that way);
        ``default_headers`` are added to this client's. Closing either client closes the
        shared pool; the other opens a new one on its next call.

        .. versionadded:: 0.2
        """
        _check_timeout(timeout)
        if not isinstance(max_retries, NotGiven):
            _check_max_retries(max_retries)
        options = dict(self._options)
        for key, value in (("timeout", timeout), ("deadline", deadline),
                           ("first_token_timeout", first_token_timeout)):
            if not isinstance(value, NotGiven):
                options[key] = value
        sdk = {"api_key": api_key, "auth_token": auth_token, "base_url": base_url}
        if any(v is not None for v in sdk.values()):
            sdk = {k: v if v is not None else self._sdk_args[k] for k, v in sdk.items()}
            if sdk["base_url"] is None:  # a new credential for the same Claude API address
                sdk["base_url"] = _claude_api_url(self.router.providers)
            providers = [_sdk_provider(sdk["api_key"], sdk["auth_token"], sdk["base_url"],
                                       max_retries)]
        else:
            sdk = self._sdk_args
            providers = _with_retries(self.router.providers, max_retries)
        options["breaker"] = self.router.breaker if self.router.breaker is not None else False
        options["signals"] = self.router.signals if self.router.signals is not None else False
        new = object.__new__(type(self))
        new._sdk_args = sdk
        new.engine = self.engine
        new._setup(providers, options, {**self.default_headers, **(default_headers or {})})
        # one route's health, however many copies (the state's statistics too)
        new.router.stats = new.router.state.latency = self.router.stats
        if sdk is self._sdk_args:  # the same route: its platforms hold the same objects
            new.object_homes = self.object_homes
        if hasattr(new.router.policy, "stats"):
            cast(Any, new.router.policy).stats = self.router.stats
        return new

    copy = with_options

    @property
    def providers(self) -> list[Provider]:
        """The configured providers, in order."""
        return list(self.router.providers)

    def __repr__(self) -> str:
        names = ", ".join(p.name for p in self.router.providers)
        return f"<AsyncClient providers=[{names}] policy={self.router.policy.name}>"

    async def close(self) -> None:
        """Close every pooled connection (and a fleet state's sync task)."""
        await self.engine.close()
        aclose = getattr(self.router.breaker, "aclose", None)
        if aclose is not None:
            await aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _check_settings(**limits: float | None) -> None:
    """Every time limit is ``None`` or a positive number of seconds (a zero timeout would fail
    every call)."""
    for name, value in limits.items():
        try:
            check_seconds(value, name)
        except InvalidRequestError as exc:
            raise ConfigurationError(str(exc)) from None
