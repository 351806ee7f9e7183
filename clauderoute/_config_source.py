"""Where a configuration key is, so that every error names the key and its line; and the values
that came from ``${VAR}``, so that no error repeats them (one may be a secret)."""

from __future__ import annotations

import contextlib
import json
import re
import typing
from collections.abc import Iterator
from typing import Any

import msgspec

from ._errors import ConfigurationError

__all__ = ["KeyPath", "Source", "dotted", "line_of"]

KeyPath = tuple[str | int, ...]
_SECRET = re.compile(r"(^|_)(key|token|secret|password)s?$", re.IGNORECASE)

# --- where a key is: errors name the key and its line --------------------------------------

_PART = re.compile(r"\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_\-]+)")
_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_\-\"'. ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(
    r"^\s*((?:\"[^\"]*\"|'[^']*'|[A-Za-z0-9_\-]+)"
    r"(?:\s*\.\s*(?:\"[^\"]*\"|'[^']*'|[A-Za-z0-9_\-]+))*)\s*="
)
_MSGSPEC_PATH = re.compile(r"\.([^.\[]+)|\[([^\]]*)\]")


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(a or b or c for a, b, c in _PART.findall(dotted))


def line_of(text: str, path: KeyPath) -> int | None:
    """The 1-based line that defines ``path`` (or its nearest enclosing key/table), best effort:
    a line-by-line scan of headers and ``key =`` lines, no second TOML parser."""
    table: tuple[str, ...] = ()
    best, best_len = None, 0
    for no, line in enumerate(text.splitlines(), 1):
        if m := _HEADER.match(line):
            here = table = _parts(m.group(1))
        elif m := _KEY.match(line):
            here = table + _parts(m.group(1))
        else:
            continue
        if here == tuple(path[: len(here)]) and len(here) > best_len:
            best, best_len = no, len(here)
    return best


def dotted(path: KeyPath) -> str:
    """``("providers", "a.b", "models", 0)`` → ``providers."a.b".models[0]``."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            part = p if re.fullmatch(r"[A-Za-z0-9_\-]+", p) else f'"{p}"'
            out += f".{part}" if out else part
    return out


def _struct_at(tp: Any, sub: list[str | int]) -> Any:
    """The Struct type reached from Struct ``tp`` by the field names in ``sub``."""
    for key in sub:
        tp = typing.get_type_hints(tp)[str(key)]
    return tp


#: The shortest start of a value an error message quotes: the checks cut values at 20 characters
#: or more, so a hidden value's first 16 (and as many more as agree) are looked for.
_SHOWN_START = 16


def _replace_starts(text: str, value: str, name: str) -> str:
    """``text`` with each run that starts like ``value`` (its first ``_SHOWN_START``
    characters, and as many more as agree with it) replaced by ``name``."""
    head, out, i = value[:_SHOWN_START], [], 0
    while (j := text.find(head, i)) != -1:
        k = j + len(head)
        while k < len(text) and k - j < len(value) and text[k] == value[k - j]:
            k += 1
        out += [text[i:j], name]
        i = k
    return "".join(out) + text[i:]


class Source:
    """The text being read, to say where a key is; and what ``${VAR}`` put in it, to keep out of
    every error message (``hide``)."""

    def __init__(self, name: str, text: str) -> None:
        self.name, self.text = name, text
        self._hidden: dict[str, str] = {}  # a value from the environment -> ${ITS_NAME}

    def hide(self, value: str, var: str) -> None:
        """Never show ``value`` (from environment variable ``var``) in an error: its name is
        shown instead. Very short values are left alone (they would mangle the message and
        hide nothing worth hiding)."""
        if len(value) >= 3:
            # as written, and as a message quotes it ({value!r}, or JSON): escaped control
            # characters would otherwise let a value with a newline through
            for form in (value, repr(value)[1:-1], json.dumps(value)[1:-1]):
                self._hidden[form] = "${" + var + "}"

    def redact(self, text: str) -> str:
        """``text`` with every hidden value replaced by its variable's name (longest first),
        also where the text shows only the value's start: a check quotes at most a few dozen
        characters of a value it refuses (``value[:40]``)."""
        for value in sorted(self._hidden, key=len, reverse=True):
            if len(value) > _SHOWN_START:
                text = _replace_starts(text, value, self._hidden[value])
            elif value in text:
                text = text.replace(value, self._hidden[value])
        return text

    def where(self, path: KeyPath) -> str:
        line = line_of(self.text, path) if self.text and path else None
        return f"{self.name}, line {line}" if line else self.name

    def error(self, path: KeyPath, message: str) -> ConfigurationError:
        return ConfigurationError(self.redact(f"{self.where(path)}: {dotted(path)}: {message}"))

    @contextlib.contextmanager
    def at(self, path: KeyPath) -> Iterator[None]:
        """Prefix a ``ConfigurationError`` raised inside with the file and line of ``path``
        (the class is kept, so an ``UnknownPlatformError`` stays one)."""
        try:
            yield
        except ConfigurationError as exc:
            key = dotted(path)
            text = str(exc) if not key or str(exc).startswith(key) else f"{key}: {exc}"
            shown = self.redact(text)
            if shown != text:  # the original (chained, so in tracebacks) holds the value
                raise type(exc)(f"{self.where(path)}: {shown}") from None
            raise type(exc)(f"{self.where(path)}: {text}") from exc

    def convert(self, value: Any, tp: Any, path: KeyPath) -> Any:
        """``msgspec.convert``, its errors turned into ``ConfigurationError`` at the key."""
        try:
            return msgspec.convert(value, tp)
        except msgspec.ValidationError as exc:
            message, _, at = str(exc).partition(" - at `$")
            sub: list[str | int] = []
            for key, index in _MSGSPEC_PATH.findall(at.rstrip("`")):
                if key or index.isdigit():  # msgspec says `[...]` for a mapping's key
                    sub.append(key or int(index))
            if m := re.match(r"Object contains unknown field `(.+)`", message):
                fields = _struct_at(tp, sub).__struct_fields__
                sub.append(m.group(1))
                message = f"unknown key (expected one of: {', '.join(fields)})"
            full = (*path, *sub)
            last = next((p for p in reversed(full) if isinstance(p, str)), "")
            if _SECRET.search(last):  # say what was expected, never what was given
                expected = re.match(r"Expected `([^`]+)`", message)
                message = (
                    f"expected {expected.group(1) if expected else 'another value'}"
                    " (the value is not shown)"
                )
            raise self.error(full, message) from None
