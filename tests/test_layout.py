"""Structural rules of the codebase, checked on the source: providers do no I/O and import only
the public provider API, core never names a platform, the attempt pipeline and each decision
live in one place, the public API is pinned, imports are lazy, and modules keep to their size
budget."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "clauderoute"
PLATFORM_IDS = {"anthropic", "bedrock", "vertex", "foundry", "aws", "google-cloud"}
# Where naming a platform is the point: config keys, the catalog data, and the CLI's table of
# which emulator pairs with which provider settings.
NAME_OK = {"_config.py", "_catalog", "_cli"}


def _py(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "tests" not in p.parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in ``path`` (``from . import x``: the module ``""``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, node.module or ""))
    return found


def test_providers_do_no_io() -> None:
    """Provider modules import no aiohttp, asyncio or socket, except emulators (servers) and
    _auth.py, whose refresh needs asyncio to run off the loop one at a time."""
    bad = []
    for pkg in ROOT.glob("providers/*/clauderoute_*"):
        for path in _py(pkg):
            if path.name in {"emulator.py", "_auth.py"} or path.name.startswith("_emulator"):
                continue
            bad += [
                f"{path.relative_to(ROOT)}: {n}"
                for _, n in _imports(path)
                if n.split(".")[0] in {"aiohttp", "asyncio", "socket"}
            ]
    assert bad == []


def test_core_never_names_a_platform() -> None:
    """Nothing in core compares against a platform id: it reads capabilities instead."""
    found = []
    for path in _py(CORE):
        if NAME_OK & set(path.relative_to(CORE).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in PLATFORM_IDS:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert found == []


# Substrings of platform-specific wire names (Bedrock's invocation metrics, AWS and Google
# headers): core's behaviour never depends on one; a provider's decoder or parser reads it.
PLATFORM_FIELDS = ("amazon-", "amzn", "bedrock", "x-goog", "vertex")
# The core code that runs on every answer: the attempt pipeline, streams and their accumulator.
ANSWER_PATH = ("_accumulate.py", "_streaming.py", "_attempt.py", "_engine.py")


def test_answer_path_names_no_platform_field() -> None:
    """No platform's field or header is named in core's answer path (a Bedrock metric read
    in the accumulator was): a provider contributes through ``StreamDecoder.message_extra``."""
    found = []
    for name in ANSWER_PATH:
        path = CORE / name
        if not path.exists():
            continue
        tree = ast.parse(path.read_text())
        docs = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}  # docstrings
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docs
                and any(f in node.value.lower() for f in PLATFORM_FIELDS)
            ):
                found.append(f"{name}:{node.lineno} {node.value[:40]!r}")
    assert found == []


def _pipeline_call(node: ast.AST) -> str | None:
    """The name of a step of the attempt pipeline ``node`` performs, if it is one: a provider's
    ``prepare(call)``/``parse(call, ...)``/``error_from_response``, or the engine's send/open."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return None
    attr, owner = node.func.attr, node.func.value
    if attr == "error_from_response":
        return attr
    if attr in ("prepare", "parse") and node.args:
        first = node.args[0]
        if (isinstance(first, ast.Name) and first.id == "call") or (
            isinstance(first, ast.Attribute) and first.attr == "call"
        ):
            return attr
    if attr in ("send", "open") and (
        (isinstance(owner, ast.Attribute) and owner.attr == "engine")
        or (isinstance(owner, ast.Name) and owner.id == "engine")
    ):
        return f"engine.{attr}"
    return None


def test_one_attempt_pipeline() -> None:
    """Only ``_attempt.py`` prepares, sends and parses an attempt: four copies (messages, the
    resources' JSON and stream attempts, the Messages stream) had drifted apart."""
    found = []
    for path in _py(CORE):
        if path.name in ("_attempt.py", "_provider.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            step = _pipeline_call(node)
            if step is not None:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {step}")
    assert found == []


def test_one_place_decides() -> None:
    """No HTTP status is compared outside ``routing/_outcome.py`` (and the error category's
    label table): retry, failover, fatal, breaker, model fallback and rate-limit resets are
    decided there (the router, the signals and model fallback had their own status lists)."""
    found = []
    for path in [*_py(CORE / "routing"), CORE / "_attempt.py", CORE / "_provider.py"]:
        if path.name in ("_outcome.py", "_category.py") or not path.exists():
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare) or (  # "is an error answer" decides nothing
                isinstance(node.ops[0], ast.GtE)
                and isinstance(node.comparators[0], ast.Constant)
                and node.comparators[0].value == 400
            ):
                continue
            for const in ast.walk(node):
                if (
                    isinstance(const, ast.Constant)
                    and type(const.value) is int
                    and 400 <= const.value < 600
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {const.value}")
    assert found == []


def _privates(paths: list[Path]) -> set[str]:
    """Private names the classes in ``paths`` define (methods, and ``self._x`` attributes)."""
    out: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            name = (
                node.name
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                else node.attr
                if isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
                else ""
            )
            if name.startswith("_") and not name.startswith("__"):
                out.add(name)
    return out


def test_fleet_uses_routing_through_public_methods() -> None:
    """The fleet backs routing state through public methods only (SharedBreaker used to read
    and write CircuitBreaker's private dict, clock and entries)."""
    routing = _privates(_py(CORE / "routing"))
    found = []
    for path in _py(CORE / "fleet"):
        own = _privates([path])
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in routing and node.attr not in own:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.attr}")
    assert found == []


def test_public_names_are_pinned() -> None:
    """__all__ is sorted, complete and every name resolves (core and each provider)."""
    modules = [
        "clauderoute",
        "clauderoute.types",
        "clauderoute.routing",
        "clauderoute.testing",
        "clauderoute.provider",
    ]
    modules += [p.name for p in ROOT.glob("providers/*/clauderoute_*")]
    for name in modules:
        mod = importlib.import_module(name)
        exported = list(mod.__all__)
        assert exported == sorted(exported), name
        for attr in exported:
            assert getattr(mod, attr) is not None, f"{name}.{attr}"


def test_reprs_read_as_public_names() -> None:
    """Public classes present themselves under the flat public namespace."""
    import clauderoute

    assert repr(clauderoute.AsyncClient) == "<class 'clauderoute.AsyncClient'>"
    assert clauderoute.RateLimitError.__module__ == "clauderoute"


def _provider_packages() -> list[tuple[str, str, str]]:
    """(module, entry-point name, emulator class) of every provider package in the repo."""
    out = []
    for pkg in sorted(ROOT.glob("providers/*/clauderoute_*")):
        mod = importlib.import_module(pkg.name)
        emulators = [n for n in mod.__all__ if n.endswith("Emulator")]
        platform = mod.__dict__.get(next(n for n in mod.__all__ if n.endswith("Provider"))).platform
        out += [(pkg.name, platform, e) for e in emulators[:1]]
    return out


# Run in one fresh interpreter, in an order where each check still sees only what its own import
# loaded: ``import clauderoute`` first, then each provider package (checked right after its
# import: the heavy modules were not loaded before it, so a package that loads one is the one
# named), then what a client loads on first use, then the entry points (which load emulators).
_IMPORTS = """
import importlib, json, sys
packages = json.loads(sys.argv[1])
problems = {}
import clauderoute
bad = [m for m in sys.modules if m == "importlib.metadata"
       or m.split(".")[0]
       in ("aiohttp", "boto3", "botocore", "google", "azure", "rich", "matplotlib")]
if bad:
    problems["import clauderoute loads"] = bad
lazy = ("clauderoute._resources.files", "clauderoute._resources.skills",
        "clauderoute._resources.models")
if bad := [m for m in lazy if m in sys.modules]:
    problems["import clauderoute loads resources"] = bad
import clauderoute.gateway  # what a --workers supervisor imports: it never serves
if "aiohttp" in sys.modules:
    problems["import clauderoute.gateway loads"] = ["aiohttp"]
mods = {}
for module, _, _ in packages:
    mods[module] = importlib.import_module(module)
    if bad := [m for m in ("aiohttp.web", "clauderoute.testing") if m in sys.modules]:
        problems[f"import {module} loads"] = bad
        break  # what follows would be blamed for what this one loaded
from clauderoute_anthropic import AnthropicProvider
c = clauderoute.AsyncClient(providers=[AnthropicProvider(api_key="k")])
c.beta.files; c.models
if missing := [m for m in lazy if m not in sys.modules]:
    problems["a client's first use does not load"] = missing
from importlib.metadata import entry_points
eps = {e.name: e for e in entry_points(group="clauderoute.emulators")}
for module, platform, emulator in packages:
    if platform not in eps or eps[platform].load() is not getattr(mods[module], emulator):
        problems[f"entry point {platform}"] = f"does not resolve to {module}.{emulator}"
print(json.dumps(problems))
"""


def test_imports_are_lazy() -> None:
    """``import clauderoute`` loads no entry-point machinery, no cloud SDK, no aiohttp (the
    clients load it, so that the error types and a command that never connects skip it) and no
    Files, Skills or Models resources (those load when a client first uses them); importing a
    provider package leaves its emulator (aiohttp.web, clauderoute.testing) unloaded until the
    emulator class is first used, and the entry point still resolves it; ``import
    clauderoute.gateway`` (a ``--workers`` supervisor's) loads no aiohttp either. One
    interpreter for all."""
    packages = _provider_packages()
    assert len(packages) >= 6
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS, json.dumps(packages)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {}


def test_providers_import_only_the_public_provider_api() -> None:
    """Provider packages import clauderoute's public modules only (``clauderoute``,
    ``clauderoute.provider``, ``clauderoute.types``, ``clauderoute.testing`` ...), never an
    implementation module (a name starting with ``_``): what the bundled providers need, a
    third-party provider can have too."""
    bad = []
    for pkg in ROOT.glob("providers/*/clauderoute_*"):
        for path in _py(pkg):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    dotted = [node.module]
                    if node.module == "clauderoute":  # from clauderoute import _errors
                        dotted += [f"clauderoute.{a.name}" for a in node.names]
                elif isinstance(node, ast.Import):
                    dotted = [a.name for a in node.names]
                else:
                    continue
                if any(
                    d.split(".")[0] == "clauderoute"
                    and any(seg.startswith("_") for seg in d.split(".")[1:])
                    for d in dotted
                ):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert bad == []


@pytest.mark.parametrize("limit", [400])
def test_module_size_budget(limit: int) -> None:
    """No library module grows past the 400-line budget."""
    big = [
        f"{p.relative_to(ROOT)}: {n}"
        for p in _py(CORE) + _py(ROOT / "providers")
        if (n := len(p.read_text().splitlines())) > limit
    ]
    assert big == []


def test_one_sigv4_signer() -> None:
    """Bedrock and Claude Platform on AWS each carried a copy of the SigV4 signer and of the
    credential caching around it; both now subclass the provider API's ``SigV4Auth``. No
    provider module computes an HMAC of its own again (the emulators' verifiers use botocore)."""
    found = [
        f"{path.relative_to(ROOT)}:{line} {n}"
        for path in _py(ROOT / "providers")
        for line, n in _imports(path)
        if n in {"hmac", "_sigv4"} or n.endswith("._sigv4")
    ]
    assert found == []
