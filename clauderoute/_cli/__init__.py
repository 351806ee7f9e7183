"""The ``clauderoute`` command: ``demo``, ``emulate``, ``bench``, ``models``, ``check`` and ``serve``.

Exit codes: 0 success; 1 the command ran but something failed (a provider in ``check``, every
measured request in ``bench``, the workload in ``demo``); 2 a usage or configuration error
(the message names the option or the key); 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


# Each command and the module that defines it, in the order of ``--help``.
_COMMANDS = {
    "demo": "_demo",
    "emulate": "_emulate",
    "bench": "_bench",
    "models": "_models",
    "check": "_check",
    "serve": "_serve",
}


def _parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of ``argv``'s command alone when it starts with one (a process imports only
    that command's module: ``serve`` then skips the emulators and the benchmark, ~0.1 s of CPU
    per start), else of every command (``--help``, no command, a misspelt one)."""
    args = sys.argv[1:] if argv is None else argv
    names = [args[0]] if args and args[0] in _COMMANDS else list(_COMMANDS)
    parser = argparse.ArgumentParser(
        prog="clauderoute",
        description="Claude on every platform: try routing offline, "
        "serve emulators for offline use, benchmark latency, list models, check a configuration.",
        epilog="exit codes: 0 ok, 1 something failed, 2 usage or configuration error",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in names:
        importlib.import_module(f"{__name__}.{_COMMANDS[name]}").add_parser(sub)
    for command in sub.choices.values():  # module docstrings double as help: no reST markup
        command.description = _plain(command.description)
    return parser


def _plain(text: str | None) -> str | None:
    """``text`` without reStructuredText's inline-literal backticks and ``::`` markers."""
    if text is None:
        return None
    return text.replace("``", "").replace("::\n", ":\n")


def _console() -> Any:
    from rich.console import Console

    # Not a terminal (a pipe, a file, a test): at least 120 columns (more if $COLUMNS says so),
    # so the tables keep one line per row.
    width = None
    if not sys.stdout.isatty():
        cols = os.environ.get("COLUMNS", "")
        width = max(120, int(cols) if cols.isdigit() else 0)
    return Console(highlight=False, width=width)


def _error(text: str) -> None:
    """``error: text`` on stderr (red where rich is installed and stderr is a terminal)."""
    try:
        from rich.markup import escape
    except ImportError:
        print(f"error: {text}", file=sys.stderr, flush=True)
        return
    err = _console()
    err.file = sys.stderr
    err.print(f"[red]error:[/] {escape(text)}", soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``clauderoute`` command; returns the exit code."""
    from .._errors import ClauderouteError, ConfigurationError

    args = _parser(argv).parse_args(argv)
    console = None
    if getattr(args, "console", True):  # ``serve`` writes plain lines and needs no rich
        try:
            console = _console()
        except ImportError:
            print(
                "clauderoute: the command needs rich; install it with: "
                "pip install 'clauderoute[cli]'",
                file=sys.stderr,
            )
            return EXIT_USAGE
    try:
        code: int = args.run(args, console)
    except ConfigurationError as exc:  # the message names the key (and its line)
        _error(str(exc))
        return EXIT_USAGE
    except ValueError as exc:  # an option out of range
        _error(str(exc))
        return EXIT_USAGE
    except ClauderouteError as exc:
        _error(f"{type(exc).__name__}: {exc}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    return code
