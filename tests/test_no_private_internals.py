"""No private internals of other libraries anywhere in clauderoute/ or providers/ (issue #16):
nothing imported from, read off, patched into or overridden in botocore, boto3, OpenTelemetry,
asyncio or aiohttp under a name that starts with an underscore — such names can change in any
minor release without an error at import.

Checked on the syntax tree: imports (``from botocore.auth import _host_from_url``,
``from opentelemetry.metrics import _internal``), attribute chains rooted at one of those
libraries (``asyncio.get_running_loop()._ready``, ``auth._host_from_url``), private names passed
as strings next to one of its modules (``getattr(trace, "_TRACER_PROVIDER")``,
``monkeypatch.setattr(trace, "_TRACER_PROVIDER", …)``) or as a dotted path into it, and
subclasses of its classes that define private methods (overriding botocore's
``SigV4Auth._normalize_url_path``). Dunder names (``__version__``) are public.
"""

from __future__ import annotations

import ast
import re
from collections import deque
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOREIGN = {"botocore", "boto3", "opentelemetry", "asyncio", "aiohttp"}
_DOTTED = re.compile(r"(?:{})(?:\.\w+)+".format("|".join(sorted(FOREIGN))))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _foreign(module: str) -> bool:
    return module.split(".")[0] in FOREIGN


def _walk(tree: ast.AST) -> tuple[list[ast.AST], dict[int, list[ast.expr]]]:
    """Every node in ``ast.walk`` order, and for each function (by ``id``) the values its
    ``return`` statements give, those of functions nested in it included: one walk of the tree
    where a walk per function and per pass cost most of this test's time."""
    nodes: list[ast.AST] = []
    returned: dict[int, list[ast.expr]] = {}
    todo: deque[tuple[ast.AST, tuple[int, ...]]] = deque([(tree, ())])
    while todo:
        node, inside = todo.popleft()
        nodes.append(node)
        if isinstance(node, ast.Return) and node.value is not None:
            for f in inside:
                returned[f].append(node.value)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            returned[id(node)] = []
            inside = (*inside, id(node))
        todo.extend((child, inside) for child in ast.iter_child_nodes(node))
    return nodes, returned


class _Checker:
    def __init__(self) -> None:
        self.aliases: set[str] = set()  # local names bound to a foreign module or object
        self.factories: set[str] = set()  # functions of the file that return one
        self.found: list[tuple[int, str]] = []

    def _bad(self, node: ast.AST, what: str) -> None:
        self.found.append((getattr(node, "lineno", 0), what))

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            if _foreign(a.name):
                if any(_private(part) for part in a.name.split(".")):
                    self._bad(node, f"import {a.name}")
                self.aliases.add(a.asname or a.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or not _foreign(module):
            return
        if any(_private(part) for part in module.split(".")):
            self._bad(node, f"from {module} import ...")
        for a in node.names:
            if _private(a.name):
                self._bad(node, f"from {module} import {a.name}")
            self.aliases.add(a.asname or a.name)

    def _rooted(self, node: ast.AST) -> bool:
        """Whether an expression is reached from a foreign alias (through attributes, calls,
        subscripts)."""
        while True:
            if isinstance(node, ast.Attribute):
                node = node.value
            elif isinstance(node, ast.Call):
                node = node.func
            elif isinstance(node, ast.Subscript):
                node = node.value
            else:
                return isinstance(node, ast.Name) and node.id in self.aliases

    def bind(self, nodes: list[ast.AST], returned: dict[int, list[ast.expr]]) -> None:
        """Follow foreign objects through the file: a function that returns one (``def
        import_botocore(): ... return botocore.auth``) and a name assigned one (``auth =
        import_botocore()``, ``loop = asyncio.get_running_loop()``) are foreign too."""
        for _ in range(3):  # chains of a few steps
            for node in nodes:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                    self._rooted(value) for value in returned[id(node)]
                ):
                    self.factories.add(node.name)
                    self.aliases.add(node.name)
                elif (
                    isinstance(node, (ast.Assign, ast.AnnAssign))
                    and node.value is not None
                    and self._rooted(node.value)
                ):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    self.aliases.update(t.id for t in targets if isinstance(t, ast.Name))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if _private(node.attr) and self._rooted(node.value):
            self._bad(node, f"{ast.unparse(node)}")

    def visit_Call(self, node: ast.Call) -> None:
        args = [*node.args, *(k.value for k in node.keywords)]
        names = [a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if any(self._rooted(a) for a in args if isinstance(a, (ast.Name, ast.Attribute))):
            self.found += [
                (node.lineno, f"{ast.unparse(node.func)}(..., {n!r})")
                for n in names
                if n.isidentifier() and _private(n)
            ]
        for n in names:
            if _DOTTED.fullmatch(n) and any(_private(p) for p in n.split(".")):
                self._bad(node, f"{ast.unparse(node.func)}({n!r})")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if any(self._rooted(b) for b in node.bases):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and _private(
                    item.name
                ):
                    self._bad(item, f"{node.name}.{item.name} overrides a private method")

    def visit(self, node: ast.AST) -> None:
        """The check of ``node`` alone (``violations`` hands it every node)."""
        check = getattr(self, "visit_" + type(node).__name__, None)
        if check is not None:
            check(node)


def violations(source: str) -> list[tuple[int, str]]:
    nodes, returned = _walk(ast.parse(source))
    checker = _Checker()
    # imports first (a lazy import inside a function still binds its alias for the file)
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            checker.visit(node)
    checker.found.clear()
    checker.bind(nodes, returned)
    for node in nodes:  # (what is found is sorted: the order of the checks does not matter)
        checker.visit(node)
    return sorted(set(checker.found))


def test_no_private_internals_of_other_libraries() -> None:
    paths = sorted(p for d in ("clauderoute", "providers") for p in (ROOT / d).rglob("*.py"))
    assert len(paths) > 50
    found = [
        f"{p.relative_to(ROOT)}:{line}: {what}"
        for p in paths
        for line, what in violations(p.read_text(encoding="utf-8"))
    ]
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        "from botocore.auth import _host_from_url",
        "import botocore.auth\nbotocore.auth._host_from_url('x')",
        "def f():\n    import botocore.auth as a\n    return a._host_from_url",
        "from opentelemetry.metrics import _internal",
        "from opentelemetry.metrics._internal import _ProxyMeterProvider",
        "import opentelemetry.util._once",
        "from opentelemetry import trace\ntrace._TRACER_PROVIDER",
        "from opentelemetry import trace\ngetattr(trace, '_TRACER_PROVIDER', None)",
        "from opentelemetry import trace\nglobal_set(trace, '_TRACER_PROVIDER', object)",
        "from opentelemetry import trace\nmonkeypatch.setattr(trace, '_TRACER_PROVIDER', None)",
        "monkeypatch.setattr('botocore.auth._helper', None)",
        "import asyncio\nasyncio.get_running_loop()._ready",
        "import asyncio\nasyncio.timeouts._State",
        "from asyncio import timeouts\ntimeouts.Timeout._reschedule",
        "from aiohttp import client_reqrep\nclient_reqrep._merge_ssl_params",
        "from botocore import auth\nclass S(auth.SigV4Auth):\n    def _normalize_url_path(s, p): ...",
        "from botocore.auth import SigV4Auth\nclass S(SigV4Auth):\n    def _sign(s, k, m): ...",
        # through a helper that imports lazily and a local name (the old Bedrock signer's way)
        (
            "def imp():\n    import botocore.auth\n    return botocore.auth\n"
            "def f():\n    auth = imp()\n    return auth._host_from_url"
        ),
        (
            "def imp():\n    import botocore.auth\n    return botocore.auth\n"
            "def f():\n    auth = imp()\n    class S(auth.SigV4Auth):\n        def _sign(s): ..."
        ),
        "import asyncio\nloop = asyncio.get_running_loop()\nloop._ready",
    ],
)
def test_each_kind_of_private_use_is_caught(source: str) -> None:
    assert violations(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "from botocore.auth import SigV4Auth\nSigV4Auth(c, 's', 'r').canonical_request(r)",
        "import asyncio\nasync def f():\n    async with asyncio.timeout(1):\n        pass",
        "from opentelemetry.trace import ProxyTracerProvider, NoOpTracerProvider",
        "import opentelemetry\nopentelemetry.__name__",
        "from botocore.auth import SigV4Auth\nclass S(SigV4Auth):\n    def __init__(s): ...",
        "class Mine:\n    def _private(self): ...\nMine()._private()",
        "from ._sigv4 import SigV4Signer\nSigV4Signer._key",  # our own privates: our business
    ],
)
def test_public_use_is_not_flagged(source: str) -> None:
    assert violations(source) == []
