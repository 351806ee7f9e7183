"""Configuration: a TOML file, or the environment alone, into a client's providers and route.

Where it comes from, first match wins: the path given to ``AsyncClient.from_config``, then
``$CLAUDEROUTE_CONFIG``, then ``./clauderoute.toml``. With no file at all, the route is one provider
of kind ``$CLAUDEROUTE_PROVIDER`` (default ``anthropic``) that takes everything from its
platform's own environment chain. ``$CLAUDEROUTE_PROVIDER`` with a file pins the route to the
provider(s) of that name or kind, so one variable switches platform without a code change::

    [providers.direct]
    kind = "anthropic"               # the platform id (required)
    [providers.vertex]
    kind = "vertex"
    project = "my-project"           # every key but the common ones goes to the provider class
    models = { claude-sonnet-4-5 = "claude-sonnet-4-5@20250929" }   # catalog overrides

    [route]
    policy = "failover"              # failover | weighted | latency | pinned | cost
    providers = ["direct", "vertex"] # default: every provider, in file order
    deadline_s = 120
    hedge_after = "p95"              # optional: seconds, or a quantile of live TTFT

The common provider settings and ``[route]`` are typed Structs decoded with msgspec; settings of
one platform (``region``, ``project``, ...) belong to its provider class, typed by the
annotations of its ``__init__``. Every error names the key and, best effort, its line, and never
repeats a value given for a key that looks like a credential. ``${VAR}`` in a string is replaced
by that environment variable.
"""

from __future__ import annotations

import inspect
import os
import re
import tomllib
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import UnionType
from typing import Annotated, Any

import msgspec

from ._config_source import KeyPath, Source
from ._config_signals import signals_settings
from ._errors import ConfigurationError
from ._provider import Provider
from ._registry import provider_class

if typing.TYPE_CHECKING:
    from .routing import Policy

__all__ = ["CONFIG_ENV", "DEFAULT_FILE", "PROVIDER_ENV", "CommonSettings", "FileConfig",
           "RouteConfig", "check_hedge_after", "client_settings", "find_config", "make_policy"]

CONFIG_ENV = "CLAUDEROUTE_CONFIG"
PROVIDER_ENV = "CLAUDEROUTE_PROVIDER"
DEFAULT_FILE = "clauderoute.toml"
DEFAULT_KIND = "anthropic"  # the bundled platform: `pip install clauderoute` alone can serve

Seconds = Annotated[float, msgspec.Meta(gt=0)]


class CommonSettings(msgspec.Struct, kw_only=True):
    """Settings every provider accepts, whatever its kind; ``None`` keeps its default."""

    base_url: str | None = None
    timeout_s: Seconds | None = None
    max_retries: Annotated[int, msgspec.Meta(ge=0)] | None = None
    anthropic_version: str | None = None
    models: dict[str, str] | None = None


class RouteConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The ``[route]`` table."""

    policy: str = "failover"
    providers: list[str] | None = None
    deadline_s: Seconds | None = None
    first_token_timeout_s: Seconds | None = None
    timeout_s: Seconds = 600.0
    hedge_after: Annotated[float, msgspec.Meta(ge=0)] | str | None = None
    weights: dict[str, float] = msgspec.field(default_factory=dict)
    cache_affinity: bool = True
    budgets: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)
    price_multipliers: dict[str, float] = msgspec.field(default_factory=dict)
    fallback_models: dict[str, list[str]] = msgspec.field(default_factory=dict)
    on_refusal: str = "return"


class FileConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A whole file; ``[tracing]`` is reserved for the tracing settings, ``[gateway]`` is read by
    ``clauderoute serve`` (``clauderoute.gateway``)."""

    providers: dict[str, Any] = msgspec.field(default_factory=dict)
    route: RouteConfig = msgspec.field(default_factory=RouteConfig)
    tracing: dict[str, Any] = msgspec.field(default_factory=dict)
    gateway: dict[str, Any] = msgspec.field(default_factory=dict)
    state: dict[str, Any] = msgspec.field(default_factory=dict)  # clauderoute.fleet reads it


# policy name -> (class name in clauderoute.routing, builder from [route]); add a line per policy.
_POLICIES: dict[str, tuple[str, Callable[[Any, RouteConfig], Policy]]] = {
    "failover": ("Failover", lambda cls, route: cls()),
    "weighted": ("Weighted", lambda cls, route: cls(route.weights)),
    "latency": ("LatencyAware", lambda cls, route: cls()),
    "pinned": ("Pinned", lambda cls, route: cls()),  # the first provider of the route serves
    "cost": ("Cost", lambda cls, route: cls(route.price_multipliers)),
}

def make_policy(name: str, settings: RouteConfig) -> Policy:
    """The routing policy ``name`` (``route.policy``), built from the ``[route]`` settings.

    Raises:
        ConfigurationError: ``name`` is not a known policy (the message names ``route.policy``).
    """
    from . import routing  # lazy, by name: policies live one per module in clauderoute.routing

    entry = _POLICIES.get(name)
    cls = getattr(routing, entry[0], None) if entry else None
    if entry is None or cls is None:
        known = ", ".join(k for k, (c, _) in _POLICIES.items() if hasattr(routing, c))
        raise ConfigurationError(f"route.policy: unknown policy {name!r} (known: {known})")
    return entry[1](cls, settings)


def check_hedge_after(after: float | str, source: Source) -> None:
    """``route.hedge_after`` is seconds or a quantile ``pNN`` with 0 < NN < 100 (``p999`` is not
    the 99.9th percentile here: write ``p99.9``)."""
    if isinstance(after, str):
        m = re.fullmatch(r"p(\d{1,2}(?:\.\d+)?)", after)
        if m is None or not 0 < float(m.group(1)) < 100:
            raise source.error(("route", "hedge_after"), "expected seconds or a quantile 'pNN' "
                               "with 0 < NN < 100, such as 'p95' or 'p99.9'")


def find_config(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file to read: ``path``, else ``$CLAUDEROUTE_CONFIG``, else
    ``./clauderoute.toml`` if it exists, else ``None`` (environment only).

    Raises:
        ConfigurationError: an explicitly named file does not exist.
    """
    if path is not None:
        if not Path(path).is_file():
            raise ConfigurationError(f"config file {os.fspath(path)!r} not found")
        return Path(path)
    env = os.environ.get(CONFIG_ENV)
    if env:
        if not Path(env).is_file():
            raise ConfigurationError(f"{CONFIG_ENV}: config file {env!r} not found")
        return Path(env)
    return Path(DEFAULT_FILE) if Path(DEFAULT_FILE).is_file() else None


def client_settings(path: str | os.PathLike[str] | None = None, *,
                    registry: Mapping[str, type[Provider]] | None = None) -> dict[str, Any]:
    """The ``AsyncClient`` keyword arguments a configuration describes (see the module doc).

    ``path`` is looked up as the module docstring says; ``registry`` (``{kind: class}``) bypasses
    entry-point discovery. Returns the route's settings, and ``hedging`` when it is set.
    """
    file = find_config(path)
    text, raw = _load(file) if file else ("", {})
    source = Source(str(file) if file else "environment", text)
    cfg = source.convert(_expand(raw, (), source), FileConfig, ())
    route = cfg.route
    providers = _route_providers(cfg, source, registry)
    route.weights = {k: v for k, v in route.weights.items()
                     if k in {p.name for p in providers}}
    with source.at(("route", "policy")):
        policy = make_policy(route.policy, route)
    out: dict[str, Any] = {"providers": providers, "policy": policy, "timeout": route.timeout_s,
                           "deadline": route.deadline_s,
                           "first_token_timeout": route.first_token_timeout_s,
                           "signals": signals_settings(route, providers, source.at)}
    if route.hedge_after is not None:
        from .routing import Hedging

        check_hedge_after(route.hedge_after, source)
        with source.at(("route", "hedge_after")):
            out["hedging"] = Hedging(route.hedge_after)
    if cfg.state or os.environ.get("CLAUDEROUTE_STATE_URL"):
        from .fleet import configure  # lazy: redis-py is an optional extra

        configure(out, cfg.state)
    return out


def _load(file: Path) -> tuple[str, dict[str, Any]]:
    try:
        text = file.read_text("utf-8")
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message has the line and column, never values
        raise ConfigurationError(f"{file}: invalid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses per nesting level: thousands of [[[ or {a={
        raise ConfigurationError(f"{file}: invalid TOML: arrays or tables nested too deeply")\
            from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{file}: cannot read: {exc}") from exc


def _route_providers(cfg: FileConfig, source: Source,
                     registry: Mapping[str, type[Provider]] | None) -> list[Provider]:
    """Build the providers of the route, after ``$CLAUDEROUTE_PROVIDER`` pinning. Providers
    defined but not routed are never built (their credentials may not exist here)."""
    tables = cfg.providers
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise source.error(("providers", name), "expected a table")
    route = cfg.route
    names = list(tables) if route.providers is None else route.providers
    for i, name in enumerate(names):
        if name not in tables:
            raise source.error(("route", "providers", i), f"names provider {name!r}, which is "
                               f"not defined (defined: {', '.join(tables) or 'none'})")
        if names.index(name) != i:
            raise source.error(("route", "providers", i), f"lists {name!r} twice")
    for key in route.weights:
        if key not in tables:
            raise source.error(("route", "weights", key), "names an undefined provider")
    pin = os.environ.get(PROVIDER_ENV) or None
    if pin is not None:
        order = names + [n for n in tables if n not in names]
        names = [n for n in order if pin in (n, _kind(n, tables[n], source))]
    if names:
        return [_build(n, tables[n], source, registry) for n in names]
    # Environment only: one provider of that kind, configured by its platform's own chain.
    kind = pin or DEFAULT_KIND
    with source.at((PROVIDER_ENV,) if pin else ()):
        return [provider_class(kind, registry)()]


def _kind(name: str, table: Mapping[str, Any], source: Source) -> str:
    # Required: defaulting to the table's name made a typo'd or renamed table ("[providers.
    # bedrok]") fail as an unknown platform far from the cause, or silently pick a platform.
    if "kind" not in table:
        raise source.error(("providers", name), 'missing "kind": the platform id, e.g. '
                           'kind = "anthropic"')
    kind = table["kind"]
    if not isinstance(kind, str):
        raise source.error(("providers", name, "kind"), "expected a platform id (a string)")
    return kind


def _build(name: str, table: Mapping[str, Any], source: Source,
           registry: Mapping[str, type[Provider]] | None) -> Provider:
    here: KeyPath = ("providers", name)
    kind = _kind(name, table, source)
    with source.at((*here, "kind")):
        cls = provider_class(kind, registry)
    if "name" in table:
        raise source.error((*here, "name"), "not a setting: the table's key is the name")
    rest = {k: v for k, v in table.items() if k != "kind"}
    common_keys = set(CommonSettings.__struct_fields__)
    common = source.convert({k: v for k, v in rest.items() if k in common_keys},
                            CommonSettings, here)
    kwargs = {k: v for k in common_keys if (v := getattr(common, k)) is not None}
    hints = _hints(cls)
    for key, value in rest.items():
        if key not in common_keys:
            tp = hints.get(key)
            kwargs[key] = (source.convert(value, tp, (*here, key))
                           if tp is not None and _checkable(tp) else value)
    try:
        with source.at(here):
            return cls(name=name, **kwargs)
    except TypeError as exc:
        m = re.search(r"unexpected keyword argument '([^']+)'", str(exc))
        if m is None:
            raise
        accepted = ", ".join(sorted((common_keys | set(hints)) - {"name"}))
        raise source.error((*here, m.group(1)), f"not a setting of kind {kind!r} "
                           f"(accepted: {accepted})") from exc


def _hints(cls: type) -> dict[str, Any]:
    """Keyword parameters of ``cls.__init__`` and its bases' → annotation (``Any`` if none or
    unresolvable; the subclass wins)."""
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        try:
            hints = typing.get_type_hints(init)
        except Exception:  # noqa: BLE001 - an annotation we cannot resolve is simply not checked
            hints = {}
        for p in inspect.signature(init).parameters.values():
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "self":
                out[p.name] = hints.get(p.name, Any)
    return out


_PLAIN = (str, int, float, bool, type(None), typing.Any)
_CONTAINERS = (list, tuple, dict, typing.Union, UnionType, Mapping, Sequence)


def _checkable(tp: Any) -> bool:
    """Whether msgspec can check ``tp`` (plain data types; a provider's own classes are not)."""
    if tp in _PLAIN:
        return True
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return True
    if origin is Annotated:
        return _checkable(typing.get_args(tp)[0])
    return origin in _CONTAINERS and all(_checkable(a) for a in typing.get_args(tp)
                                         if a is not Ellipsis)


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand(value: Any, path: KeyPath, source: Source) -> Any:
    """``${VAR}`` in strings, replaced from the environment (unset: an error naming VAR)."""
    if isinstance(value, str):
        def sub(m: re.Match[str]) -> str:
            if m.group(1) not in os.environ:
                raise source.error(path, f"environment variable {m.group(1)} is not set")
            value = os.environ[m.group(1)]
            source.hide(value, m.group(1))
            try:  # bytes that are not UTF-8 arrive as lone surrogates: unsendable anywhere
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise source.error(path, f"environment variable {m.group(1)} is not valid "
                                   "UTF-8 text (the value is not shown)") from None
            return value
        return _VAR.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand(v, (*path, k), source) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, (*path, i), source) for i, v in enumerate(value)]
    return value
