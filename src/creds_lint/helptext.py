"""Help text that fits the terminal: an ``argparse`` formatter that wraps option help and also the usage lines,
descriptions and epilogs written by hand, without losing their structure (rows keep their column, examples stay
lines, words are never broken). :class:`creds_lint.invocation.Parser` uses it for every command."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from typing import Any

#: An indented row of a help text: its term, at least two spaces, its text (``  --staged     what the next ...``).
_ROW = re.compile(r"(?P<term> +\S.*?)(?P<gap> {2,})(?P<text>\S.*)")


class Formatter(argparse.HelpFormatter):
    """Help that fits the terminal (``COLUMNS``, else its size): option help, and also the usage lines,
    description and epilog written by hand, wrapped to the width without losing their structure.

    In a description or an epilog, lines that start at the margin are prose: a paragraph (up to a blank line or an
    indented line) is refilled. An indented line is a row of its own: ``TERM  TEXT`` (two spaces or more before
    TEXT) keeps TERM and wraps TEXT in its column, and the more deeply indented lines after it continue TEXT; an
    indented line without such a gap (an example) stays a line, continued 4 columns further in when it is too long.
    Words are never broken (a flag, a URL): a word longer than the width is a line of its own."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return _wrap(" ".join(text.split()), width) or [""]

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n".join(indent + line if line else "" for line in fill(text, width - len(indent)))

    def _format_usage(
        self,
        usage: str | None,
        actions: Any,  # noqa: ANN401 - argparse's own signature
        groups: Any,  # noqa: ANN401
        prefix: str | None,
    ) -> str:
        if usage is None:  # argparse's own usage wraps itself
            return super()._format_usage(usage, actions, groups, prefix)
        prefix = "usage: " if prefix is None else prefix
        margin = " " * len(prefix)
        lines: list[str] = []
        for number, given in enumerate(usage.strip().splitlines()):
            line = given.strip()
            name = self._prog if line.startswith(self._prog + " ") else line.split(" ", 1)[0]
            words = _usage_words(line)
            hang = len(margin) + len(name) + 1  # under the first argument, unless a word would not fit there
            if hang > self._width // 2 or hang + max(len(w) for w in words) > self._width:
                hang = len(margin) + 4
            wrapped = _wrap(" ".join(words), self._width - hang, words=words, first=self._width - len(margin))
            first = prefix if number == 0 else margin
            lines += [first + wrapped[0], *(" " * hang + rest for rest in wrapped[1:])]
        return "\n".join(lines) + "\n\n"


def fill(text: str, width: int) -> list[str]:
    """The lines of a hand-written help text wrapped to ``width`` (see :class:`Formatter`)."""
    out: list[str] = []
    prose: list[str] = []
    row: tuple[str, list[str], int] | None = None  # (term, text, column of the text)

    def flush() -> None:
        nonlocal row
        if prose:
            out.extend(_wrap(" ".join(prose), width))
            prose.clear()
        if row is not None:
            term, words, column = row
            out.extend(_row(term, " ".join(words), column, width))
            row = None

    for line in text.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        if not line.strip():
            flush()
            out.append("")
        elif indent == 0:
            if row is not None:
                flush()
            prose.append(line)
        elif row is not None and indent > len(row[0]) - len(row[0].lstrip(" ")):
            if not row[1]:  # a term on a line of its own: its text starts at the continuation's column
                row = (row[0], row[1], indent)
            row[1].append(line.strip())
        else:
            flush()
            match = _ROW.fullmatch(line)
            if match is None:
                row = (line.rstrip(), [], 0)
            else:
                row = (match["term"], [match["text"]], len(match["term"]) + len(match["gap"]))
    flush()
    return out


def _row(term: str, text: str, column: int, width: int) -> list[str]:
    indent = len(term) - len(term.lstrip(" "))
    if not text:  # an example: one line, continued further in when too long
        pieces = _wrap(term.strip(), width - indent - 4, first=width - indent)
        return [" " * indent + pieces[0], *(" " * (indent + 4) + piece for piece in pieces[1:])]
    if column > width // 2:  # a narrow terminal: the text goes under its term, a little further in
        column = indent + 4
    lines = _wrap(text, width - column)
    if len(term) + 2 <= column:
        return [term.ljust(column) + lines[0], *(" " * column + line for line in lines[1:])]
    return [term, *(" " * column + line for line in lines)]


def _wrap(text: str, width: int, *, words: Sequence[str] | None = None, first: int | None = None) -> list[str]:
    """``text`` in lines of at most ``width`` characters (``first``: of the first line), breaking only between
    ``words`` (default: at spaces); a word longer than the width is a line of its own."""
    lines: list[str] = []
    current = ""
    for word in words if words is not None else text.split():
        limit = width if lines or first is None else first
        if current and len(current) + 1 + len(word) > limit:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines


def _usage_words(line: str) -> list[str]:
    """The words of a usage line: a bracketed group (``[--days N]``, ``(NAME... | --all)``) is one word."""
    words: list[str] = []
    depth = 0
    current = ""
    for char in line:
        if char == " " and depth == 0:
            if current:
                words.append(current)
            current = ""
            continue
        depth += (char in "([") - (char in ")]")
        current += char
    if current:
        words.append(current)
    return words
