"""The documentation holds: every Python sample in README.md, docs/*.md and the provider
READMEs runs against the emulators, the provider written in docs/providers.md passes the provider contract, every TOML
sample parses, and no link leaves the repository.

Conventions for samples (an HTML comment on the line before the code fence):

* ``<!-- not-run: REASON -->``: the block is not run (it needs live credentials, or it is a
  fragment); the reason is required.
* ``<!-- file: NAME.py -->``: the block is a file of that name, written next to the page's other
  samples before they run (so a later sample can import it), not run by itself; a file named
  ``test_*.py`` is a test module, run by pytest in a fresh process, and every test must pass.

Every other ``python`` block runs as a script in a fresh interpreter with warnings as errors, in a
directory with no ``clauderoute.toml``, with ``ANTHROPIC_API_KEY`` and ``ANTHROPIC_BASE_URL``
pointing at a Claude API emulator, and must exit 0.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from clauderoute_anthropic import AnthropicEmulator

from clauderoute.testing import ProviderContract

ROOT = Path(__file__).resolve().parents[1]
RUN_PAGES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted(ROOT.glob("providers/*/README.md")),
]
_MARK = re.compile(r"<!--\s*(not-run|file)\s*:?\s*(.*?)\s*-->")
_FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+-]*)")
SAMPLE_TIMEOUT_S = 120


@dataclass
class Block:
    """One fenced code block of a markdown page."""

    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    mark: str | None = None  # "not-run" or "file"
    arg: str = ""  # the reason, or the file name

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """Every fenced code block of ``page``, with the marker comment right above it, if any."""
    out: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang, start = m.group(1), m.group(2), i
        i += 1
        body: list[str] = []
        while i < len(lines) and not lines[i].startswith(fence):
            body.append(lines[i])
            i += 1
        i += 1
        block = Block(page, start + 1, lang, "\n".join(body) + "\n")
        prev = lines[start - 1].strip() if start else ""
        if (mark := _MARK.fullmatch(prev)) is not None:
            block.mark, block.arg = mark.group(1), mark.group(2)
        out.append(block)
    return out


def _python(pages: list[Path]) -> list[Block]:
    return [b for p in pages for b in blocks(p) if b.lang in ("python", "py")]


def _env(tmp: Path, emulator: AnthropicEmulator, api_key: str) -> dict[str, str]:
    paths = [
        str(tmp),
        str(ROOT),
        *(str(d) for d in sorted((ROOT / "providers").iterdir()) if d.is_dir()),
    ]
    env = dict(os.environ)  # conftest's clean_environ already removed real credentials
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env.update(
        PYTHONPATH=os.pathsep.join(paths),
        ANTHROPIC_API_KEY=api_key,
        ANTHROPIC_BASE_URL=emulator.url,
        PYTHONWARNINGS="error",
    )
    return env


async def _run(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), SAMPLE_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode("utf-8", "replace")


def _write_files(page: Path, tmp: Path) -> None:
    for b in blocks(page):
        if b.mark == "file":
            (tmp / b.arg).write_text(b.code, encoding="utf-8")


RUNNABLE = [b for b in _python(RUN_PAGES) if b.mark is None]


def test_there_are_samples_to_run() -> None:
    """The collection below is not empty (a parser bug would otherwise pass everything)."""
    assert len(RUNNABLE) >= 5
    assert {b.page.name for b in RUNNABLE} >= {"README.md", "providers.md"}


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.id for b in RUNNABLE])
async def test_python_sample_runs(block: Block, tmp_path: Path) -> None:
    """The sample runs to completion against a Claude API emulator."""
    _write_files(block.page, tmp_path)
    (tmp_path / "sample.py").write_text(block.code, encoding="utf-8")
    key = "sample-key-0123456789abcdef"
    async with AnthropicEmulator(api_key=key) as emulator:
        rc, out = await _run([sys.executable, "sample.py"], tmp_path, _env(tmp_path, emulator, key))
    assert rc == 0, f"the sample at {block.id} failed (exit {rc}):\n{out}"


def test_markers_are_well_formed() -> None:
    """Every marker has its argument, sits right above a python block, and files are named."""
    pages = [*RUN_PAGES, ROOT / "README.zh-TW.md"]
    for page in pages:
        if not page.exists():
            continue
        text = page.read_text(encoding="utf-8").splitlines()
        marked = {b.line - 1 for b in blocks(page) if b.mark}
        for n, line in enumerate(text, 1):
            if _MARK.fullmatch(line.strip()):
                assert n in marked, f"{page.name}:{n}: a marker must sit right above a fence"
        for b in _python([page]):
            if b.mark == "not-run":
                assert len(b.arg) >= 5, f"{b.id}: not-run needs a reason"
            if b.mark == "file":
                assert re.fullmatch(r"[\w-]+\.py", b.arg), f"{b.id}: bad file name {b.arg!r}"


TEST_FILES = [b for b in _python(RUN_PAGES) if b.mark == "file" and b.arg.startswith("test_")]


def _pytest(block: Block, tmp: Path) -> tuple[int, str]:
    """Run the test module ``block`` (with its page's other files beside it) in pytest."""
    _write_files(block.page, tmp)
    # A fresh pytest, not one of this run's pytest-xdist workers: with their variables it would
    # think itself one (pytest-benchmark, when installed, then warns, fatal under -W error).
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST_")}
    # Only the plugin the documented modules need (pytest-asyncio), not every installed one:
    # loading them all (hypothesis, xdist, anyio's trio...) was half of each run's CPU.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(
        [
            str(tmp),
            str(ROOT),
            *(str(d) for d in sorted((ROOT / "providers").iterdir()) if d.is_dir()),
        ]
    )
    args = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "pytest_asyncio.plugin",
        "-W",
        "error",
        "--rootdir",
        str(tmp),
        "-o",
        "asyncio_mode=auto",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
        "-o",
        "asyncio_default_test_loop_scope=function",
        block.arg,
    ]
    proc = subprocess.run(
        args,
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=SAMPLE_TIMEOUT_S,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


# Runs of a documented test module, by page and file name: the provider walk-through's contract
# module is run once for the two tests that read its result (both in one xdist group, so on one
# worker).
_RUNS: dict[tuple[Path, str], tuple[int, str]] = {}
_SHARED = pytest.mark.xdist_group("docs-contract")


def _pytest_once(block: Block, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str]:
    key = (block.page, block.arg)
    if key not in _RUNS:
        _RUNS[key] = _pytest(block, tmp_path_factory.mktemp("docs-module"))
    return _RUNS[key]


def test_the_documented_test_modules_are_found() -> None:
    """The README's pytest example and the provider walk-through's contract test."""
    assert {(b.page.name, b.arg) for b in TEST_FILES} >= {
        ("README.md", "test_offline_example.py"),
        ("providers.md", "test_acme_contract.py"),
    }


@pytest.mark.parametrize(
    "block",
    [
        pytest.param(b, marks=_SHARED if b.arg == "test_acme_contract.py" else ())
        for b in TEST_FILES
    ],
    ids=[b.id for b in TEST_FILES],
)
def test_documented_test_module_passes(
    block: Block, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A test module shown in the docs passes, every test of it, in a fresh pytest."""
    rc, out = _pytest_once(block, tmp_path_factory)
    assert rc == 0, f"{block.id} ({block.arg}) failed:\n{out}"
    assert re.search(r"\b[1-9]\d* passed", out) and "skipped" not in out, out


@_SHARED
def test_provider_walkthrough_passes_the_whole_contract(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The provider written in docs/providers.md passes every test of ``ProviderContract``."""
    page = ROOT / "docs" / "providers.md"
    files = {b.arg: b for b in blocks(page) if b.mark == "file"}
    assert set(files) == {"clauderoute_acme.py", "test_acme_contract.py"}
    rc, out = _pytest_once(files["test_acme_contract.py"], tmp_path_factory)
    contract = [n for n in dir(ProviderContract) if n.startswith("test_")]
    assert rc == 0, out
    assert f"{len(contract)} passed" in out, out


def test_toml_samples_parse() -> None:
    """Every TOML block of the docs is valid TOML."""
    for page in [*RUN_PAGES, *sorted(ROOT.glob("providers/*/README.md"))]:
        for b in blocks(page):
            if b.lang == "toml":
                try:
                    tomllib.loads(b.code)
                except tomllib.TOMLDecodeError as exc:
                    pytest.fail(f"{b.id}: {exc}")


CONFIGS = [b for p in RUN_PAGES for b in blocks(p) if b.lang == "toml" and "[providers." in b.code]


@pytest.mark.parametrize("block", CONFIGS, ids=[b.id for b in CONFIGS])
def test_config_samples_build_a_route(
    block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every ``clauderoute.toml`` sample is a configuration clauderoute accepts: known keys,
    right types, installed kinds (credentials from the environment, as a user would have)."""
    from clauderoute._config import client_settings

    for key, value in {
        "ANTHROPIC_API_KEY": "k",
        "ANTHROPIC_FOUNDRY_API_KEY": "f",
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "s",
        "VERTEX_TOKEN": "t",
        "ACME_GATEWAY_TOKEN": "a",
        "GATEWAY_KEY": "g",
        "KEY_A": "a",
    }.items():
        monkeypatch.setenv(key, value)
    registry = None
    if block.page.name == "providers.md":  # the walk-through's provider, from the page itself
        _write_files(block.page, tmp_path)
        monkeypatch.syspath_prepend(str(tmp_path))
        from clauderoute_anthropic import AnthropicProvider

        acme = importlib.import_module("clauderoute_acme")
        registry = {"acme-gateway": acme.AcmeGatewayProvider, "anthropic": AnthropicProvider}
    config = tmp_path / "clauderoute.toml"
    config.write_text(block.code, encoding="utf-8")
    settings = client_settings(config, registry=registry)
    names = re.findall(r"^\[providers\.([\w.-]+)\]", block.code, re.MULTILINE)
    assert [p.name for p in settings["providers"]] == names


# --- links ------------------------------------------------------------------------------------

_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REF = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.MULTILINE)
# The team's private documents (a name, also escaped as in a regular expression, or a path).
_PRIVATE = re.compile(r"\.\./shared|\b(?:DESIGN|STYLE|PLATFORMS|OBSERVABILITY)\\?\.md\b")


def markdown_files() -> list[Path]:
    """Every markdown file of the repository (not hidden folders, not generated results)."""
    return sorted(
        p
        for p in ROOT.rglob("*.md")
        if not any(
            part.startswith(".") or part in ("results", "node_modules")
            for part in p.relative_to(ROOT).parts
        )
    )


def outside_links(page: Path, root: Path = ROOT) -> list[str]:
    """The link targets of ``page`` that leave ``root`` or point at nothing."""
    text = page.read_text(encoding="utf-8")
    bad = []
    for target in [*_LINK.findall(text), *_REF.findall(text)]:
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) and not target.startswith(
            "file:"
        ):
            continue  # http(s), mailto: pages on the web, not files
        path = target.split("#", 1)[0]
        if not path:
            continue  # an anchor on the same page
        if target.startswith(("file:", "/", "~")):
            bad.append(target)
            continue
        resolved = (page.parent / path).resolve()
        if not resolved.is_relative_to(root) or not resolved.exists():
            bad.append(target)
    return bad


def test_link_checker_catches_outside_links(tmp_path: Path) -> None:
    """The checker itself: a link out of the repository, an absolute path and a missing file
    are found; a web link, an anchor and a file in the repository are not."""
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "README.md").write_text("x", encoding="utf-8")
    (root / "docs" / "architecture.md").write_text("x", encoding="utf-8")
    page = root / "docs" / "probe.md"
    page.write_text(
        "[a](../../shared/DESIGN.md) [b](/etc/passwd) [c](missing.md) "
        "[d](https://example.com/x) [e](#layers) [f](architecture.md#layers)\n"
        "![g](<../README.md>)\n[h]: ../../outside.md\n",
        encoding="utf-8",
    )
    assert outside_links(page, root) == [
        "../../shared/DESIGN.md",
        "/etc/passwd",
        "missing.md",
        "../../outside.md",
    ]


@pytest.mark.parametrize("page", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_link_leaves_the_repository(page: Path) -> None:
    """Links point at files in this repository (or at the web), never at the team's private
    documents next to it."""
    assert outside_links(page) == [], f"{page.relative_to(ROOT)} links outside the repository"


OWNED_DOCS = [
    ROOT / "README.md",
    ROOT / "README.zh-TW.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted(ROOT.glob("providers/*/README.md")),
    ROOT / "benchmarks" / "README.md",
]


@pytest.mark.parametrize(
    "page", [p for p in OWNED_DOCS if p.exists()], ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_mention_of_private_documents(page: Path) -> None:
    """The user-facing docs do not send readers to documents they cannot see."""
    found = [m.group(0) for m in _PRIVATE.finditer(page.read_text(encoding="utf-8"))]
    assert found == [], f"{page.relative_to(ROOT)} mentions {found}"


# Folders that hold generated or installed files, not the project's own (hidden folders are
# skipped too, except the tracked ones listed in _HIDDEN_KEPT).
_GENERATED = {"__pycache__", "node_modules", "results", "build", "dist", "venv"}
_HIDDEN_KEPT = {".ci", ".github"}


def private_mentions(root: Path, skip: frozenset[Path] = frozenset()) -> list[str]:
    """``path:line: text`` for every mention of a private document in the text files under
    ``root`` (code, tests, data, docs), except the files in ``skip``."""
    paths = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [
            d
            for d in dirs
            if (not d.startswith(".") or d in _HIDDEN_KEPT)
            and d not in _GENERATED
            and not d.endswith(".egg-info")
        ]
        paths += [Path(folder, n) for n in names if not n.endswith(".pyc")]
    found = []
    for path in sorted(paths):
        if path in skip or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary (images, Redis dumps)
        for n, line in enumerate(text.splitlines(), 1):
            found += [
                f"{path.relative_to(root)}:{n}: {m.group(0)}" for m in _PRIVATE.finditer(line)
            ]
    return found


def test_private_mention_finder_catches_citations(tmp_path: Path) -> None:
    """The finder itself: a citation in a comment, a TOML value, an escaped regular expression
    or a tracked hidden folder is found; caches, installed folders and binaries are not."""
    files = {
        "pkg/mod.py": "x = 1\n# as PLATFORMS.md says\n",
        "pkg/data.toml": 'src = "OBSERVABILITY.md 4.12"\n',
        "tests/test_x.py": 'PAT = r"STYLE\\.md"\n',
        ".ci/run": "cat ../shared/notes\n",
        "pkg/clean.py": "PLATFORMS = {}  # a name, not a document\n",
        "pkg/__pycache__/mod.txt": "DESIGN.md\n",
        ".venv/lib/x.py": "DESIGN.md\n",
        "pkg.egg-info/PKG-INFO": "DESIGN.md\n",
        "results/r1/run.json": "DESIGN.md\n",
        "tests/skipped.py": "DESIGN.md\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "pkg" / "dump.rdb").write_bytes(b"\xff\xfeDESIGN.md\x80")
    assert private_mentions(tmp_path, frozenset({tmp_path / "tests" / "skipped.py"})) == [
        ".ci/run:1: ../shared",
        "pkg/data.toml:1: OBSERVABILITY.md",
        "pkg/mod.py:2: PLATFORMS.md",
        "tests/test_x.py:1: STYLE\\.md",
    ]


def test_nothing_in_the_repository_cites_private_documents() -> None:
    """Code, tests, data and docs stand on their own: a comment states the fact (and its public
    source), never the team's private notes, which users cannot see. This file is exempt: it
    names them to find them."""
    assert private_mentions(ROOT, frozenset({Path(__file__).resolve()})) == []


# --- the Traditional Chinese README keeps step with README.md -------------------------------

ZH = ROOT / "README.zh-TW.md"


def outline(page: Path) -> list[tuple[int, str]]:
    """The page's headings as (level, text), in order, outside code blocks."""
    lines = page.read_text(encoding="utf-8").splitlines()
    inside = {n for b in blocks(page) for n in range(b.line, b.line + b.code.count("\n") + 2)}
    out = []
    for n, line in enumerate(lines, 1):
        if n not in inside and (m := re.match(r"(#{1,6})\s+(.*)", line)):
            out.append((len(m.group(1)), m.group(2).strip()))
    return out


def structure_problems(english: Path, translation: Path) -> list[str]:
    """How ``translation`` differs from ``english`` in heading levels and in code blocks (the
    code of a translation is identical: only prose is translated)."""
    problems = []
    en, zh = outline(english), outline(translation)
    for i in range(max(len(en), len(zh))):
        a = en[i] if i < len(en) else None
        b = zh[i] if i < len(zh) else None
        if a is None or b is None or a[0] != b[0]:
            problems.append(
                f"headings differ from heading {i + 1} on: {english.name} has "
                f"{'#' * a[0] + ' ' + a[1] if a else 'no more headings'!r}, {translation.name} "
                f"has {'#' * b[0] + ' ' + b[1] if b else 'no more headings'!r} "
                f"({len(en)} headings against {len(zh)})"
            )
            break
    en_code = [(b.lang, b.mark, b.arg, b.code) for b in blocks(english)]
    zh_code = [(b.lang, b.mark, b.arg, b.code) for b in blocks(translation)]
    if len(en_code) != len(zh_code):
        problems.append(
            f"{english.name} has {len(en_code)} code blocks, {translation.name} {len(zh_code)}"
        )
    for n, (a, b) in enumerate(zip(en_code, zh_code, strict=False), 1):
        if a != b:
            where = blocks(english)[n - 1].line
            problems.append(
                f"code block {n} ({english.name} line {where}) differs in "
                f"{translation.name}: update both"
            )
    return problems


def test_translation_keeps_step_with_readme() -> None:
    """README.zh-TW.md has README.md's headings (levels, in order) and the same code blocks."""
    problems = structure_problems(ROOT / "README.md", ZH)
    assert not problems, "README.zh-TW.md is out of step with README.md:\n  " + "\n  ".join(
        problems
    )


def test_translation_check_catches_drift(tmp_path: Path) -> None:
    """The check itself: a new section, a changed sample and a missing block are each found."""
    english = (ROOT / "README.md").read_text(encoding="utf-8")
    zh = ZH.read_text(encoding="utf-8")
    en_path, zh_path = tmp_path / "README.md", tmp_path / "README.zh-TW.md"
    zh_path.write_text(zh, encoding="utf-8")
    en_path.write_text(english + "\n## A new section\n\nText.\n", encoding="utf-8")
    assert any("headings differ" in p for p in structure_problems(en_path, zh_path))
    en_path.write_text(english.replace("Hello, Claude", "Hi, Claude", 1), encoding="utf-8")
    assert any("code block" in p and "differs" in p for p in structure_problems(en_path, zh_path))
    cut = zh.index("```toml")
    zh_path.write_text(zh[:cut] + zh[zh.index("```\n", cut + 7) + 4 :], encoding="utf-8")
    en_path.write_text(english, encoding="utf-8")
    assert any("code blocks" in p for p in structure_problems(en_path, zh_path))
    zh_path.write_text(zh, encoding="utf-8")
    assert structure_problems(en_path, zh_path) == []


def test_translation_is_translated() -> None:
    """Its prose is Chinese: most lines outside code carry CJK characters."""
    inside = {n for b in blocks(ZH) for n in range(b.line, b.line + b.code.count("\n") + 2)}
    lines = ZH.read_text(encoding="utf-8").splitlines()
    prose = [
        line
        for n, line in enumerate(lines, 1)
        if n not in inside and line.strip() and not line.startswith(("```", "|", "<!--", "![", "#"))
    ]
    cjk = [line for line in prose if re.search(r"[\u4e00-\u9fff]", line)]
    assert len(cjk) >= 0.8 * len(prose), [line for line in prose if line not in cjk][:5]


# --- docs/architecture.md names code that exists -------------------------------------------


def _source_index(classes: set[str]) -> tuple[set[str], dict[str, set[str]]]:
    """Every module path under clauderoute/ (relative to it), and the methods of each class
    named in ``classes`` (only a file that defines one of them is parsed)."""
    import ast

    paths, methods = set(), {}
    for path in (ROOT / "clauderoute").rglob("*.py"):
        paths.add(str(path.relative_to(ROOT / "clauderoute")))
        source = path.read_text(encoding="utf-8")
        if not classes & set(re.findall(r"^[ \t]*class[ \t]+(\w+)", source, re.MULTILINE)):
            continue
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef):
                methods.setdefault(node.name, set()).update(
                    n.name
                    for n in node.body
                    if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                )
    return paths, methods


def test_architecture_names_real_modules_and_methods() -> None:
    """Every module path (``routing/_router.py``) and ``Class.method`` the architecture page
    names exists in clauderoute/, so the page cannot silently drift from the code."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    pairs = set(re.findall(r"`([A-Z]\w+)\.(_?\w+)`", text))
    paths, methods = _source_index({c for c, _ in pairs})
    named = set(re.findall(r"`(?:clauderoute/)?((?:\w+/)*\w+\.py)`", text))
    missing = sorted(p for p in named if p not in paths)
    assert len(named) >= 15 and not missing, f"modules named but absent: {missing}"
    absent = sorted(f"{c}.{m}" for c, m in pairs if m not in methods.get(c, ()))
    assert len(pairs) >= 8 and not absent, f"methods named but absent: {absent}"


def _test_paths_named(script: str) -> list[str]:
    """The test files and folders a shell script names (``tests/...``, ``providers/*/tests/...``)."""
    return re.findall(r"(?<![\w./-])((?:providers/[\w-]+/)?tests/[\w/.-]*\w)", script)


def test_ci_names_only_test_files_that_exist() -> None:
    """.ci/run's lowest-versions step runs named test files: a file moved or renamed would make
    pytest stop with "file or directory not found" in CI alone."""
    named = _test_paths_named((ROOT / ".ci" / "run").read_text())
    assert len(named) >= 10, named  # the step names a dozen; fewer means the finder broke
    assert [p for p in named if not (ROOT / p).exists()] == []


def test_ci_test_path_finder_sees_a_moved_file() -> None:
    named = _test_paths_named(
        "pytest -q tests/test_a.py \\\n    providers/bedrock/tests/test_b.py\n"
    )
    assert named == ["tests/test_a.py", "providers/bedrock/tests/test_b.py"]
