"""How bosh writes a var-store: the key order and the emitter of gopkg.in/yaml.v2 v2.4.0, ported from its source.

bosh re-marshals its whole var-store on every generation (cmd/opts/vars_fs_store.go). To write entries that bosh
would have written itself, this module reproduces:

* :func:`key_less`, the key order (sorter.go ``keyList.Less``): runs of digits compare as numbers (``x_2`` <
  ``x_10``); at the first differing rune a non-letter sorts before a letter (``_`` before ``A``); numbers and
  booleans sort before strings. It is not a total order on every set of keys ("51" < "5a" < "6" < "51"): bosh
  then writes such keys in an order that follows Go's random map iteration. Letters and digits are as Python's
  Unicode database knows them;
* :func:`emit_entry` and :func:`emit_document`, the emitter (encode.go and emitterc.go): literal blocks ``|``,
  ``|-``, ``|+`` with an indent digit when the value starts with a space or a break, double quotes for strings
  that would resolve to another type (:mod:`creds_lint.yamlv2` says how yaml.v2 reads a scalar), 2-space indent,
  sequences not indented under their key, plain and double-quoted scalars wrapped at 80 columns, ``{}`` and ``[]``
  for empty collections, floats as Go formats them (``1e+06``).

Values are plain Python data as yaml.v2 decodes them into ``interface{}``: ``None``, ``bool``, ``int``, ``float``,
``str``, ``list`` and ``dict`` (keys of any scalar type); :func:`native` turns what creds-lint's loader reads
(:class:`~creds_lint.model.Typed` numbers and booleans) into them. A value this module cannot write as yaml.v2
does (text that is not valid Unicode, which yaml.v2 writes as ``!!binary``) raises :class:`Unrepresentable`,
whose message never holds the value.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from creds_lint import yamlv2
from creds_lint.model import Typed, YamlType

#: A value as yaml.v2 decodes it into ``interface{}``.
Value = object

# --- key order (sorter.go) ------------------------------------------------------------------------------------

#: reflect.Kind of a decoded key: Bool 1, Int 2, Uint64 11, Float64 14, Interface (nil) 20, String 24.
_UINT64_MIN = 2**63


def _kind(value: object) -> int:
    if value is None:
        return 20
    if isinstance(value, bool):
        return 1
    if isinstance(value, int):
        return 11 if value >= _UINT64_MIN else 2
    if isinstance(value, float):
        return 14
    return 24


def _key_float(value: object) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    return None


def key_less(a: object, b: object) -> bool:
    """yaml.v2's ``keyList.Less(a, b)``."""
    ka, kb = _kind(a), _kind(b)
    fa, fb = _key_float(a), _key_float(b)
    if fa is not None and fb is not None:
        if fa != fb:
            return fa < fb
        if ka != kb:
            return ka < kb
        return _num_less(a, b)
    if not isinstance(a, str) or not isinstance(b, str):
        return ka < kb
    return _string_less(a, b)


def _num_less(a: object, b: object) -> bool:
    if isinstance(a, bool) and isinstance(b, bool):
        return not a and b
    assert isinstance(a, int | float)
    assert isinstance(b, int | float)
    return a < b


def _is_letter(ch: str) -> bool:
    """Go's ``unicode.IsLetter``: the categories L* (as ``str.isalpha``)."""
    return ch.isalpha()


def _is_digit(ch: str) -> bool:
    """Go's ``unicode.IsDigit`` (category Nd); the numeric value is taken as ``rune - '0'`` like yaml.v2 does."""
    return ch.isdecimal()


def _string_less(a: str, b: str) -> bool:
    for i in range(min(len(a), len(b))):
        if a[i] == b[i]:
            continue
        al, bl = _is_letter(a[i]), _is_letter(b[i])
        if al and bl:
            return a[i] < b[i]
        if al or bl:
            return bl
        an = bn = 0
        if a[i] == "0" or b[i] == "0":
            j = i - 1
            while j >= 0 and _is_digit(a[j]):
                if a[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        ai = i
        while ai < len(a) and _is_digit(a[ai]):
            an = _wrap64(an * 10 + ord(a[ai]) - 48)
            ai += 1
        bi = i
        while bi < len(b) and _is_digit(b[bi]):
            bn = _wrap64(bn * 10 + ord(b[bi]) - 48)
            bi += 1
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return a[i] < b[i]
    return len(a) < len(b)


def _wrap64(n: int) -> int:
    """Go's int64 arithmetic, which wraps around on overflow."""
    n &= 2**64 - 1
    return n - 2**64 if n >= 2**63 else n


#: ``sorted(keys, key=ORDER)`` sorts as yaml.v2 does.
ORDER = functools.cmp_to_key(lambda a, b: -1 if key_less(a, b) else (1 if key_less(b, a) else 0))


def sort_keys(keys: Iterator[object] | Sequence[object]) -> list[object]:
    return sorted(keys, key=ORDER)


# --- what is written plain ---------------------------------------------------------------------------------

_BASE60_FLOAT = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")


def resolves_to_string(text: str) -> bool:
    """Whether yaml.v2 writes ``text`` as a plain scalar (``stringv``'s ``canUsePlain``): read plain, it would be
    a string (not a number, a boolean, a null or a timestamp), and it is not a YAML 1.1 base-60 float."""
    base60 = bool(text) and text[0] in "+-0123456789" and ":" in text and _BASE60_FLOAT.fullmatch(text) is not None
    return yamlv2.plain_tag(text) == yamlv2.STR and not base60


class Unrepresentable(ValueError):
    """A value that this module does not write as yaml.v2 does. The message names what it is, never the value."""


def native(value: object) -> Value:
    """A value as creds-lint's loader reads it, as plain data: :class:`~creds_lint.model.Typed` numbers and
    booleans become ``int``, ``float`` and ``bool``."""
    if isinstance(value, Typed):
        if value.type is YamlType.BOOL:
            return value.canonical == "true"
        if value.type is YamlType.INT:
            return int(value.canonical)
        return float(value.canonical)
    if isinstance(value, Mapping):
        return {native(k): native(v) for k, v in value.items()}
    if isinstance(value, list):
        return [native(v) for v in value]
    return value


# --- the emitter (encode.go, emitterc.go) ---------------------------------------------------------------------

_BEST_INDENT = 2
_BEST_WIDTH = 80
_BREAKS = frozenset("\r\n\x85\u2028\u2029")


def _printable(ch: str) -> bool:
    c = ord(ch)
    return c == 0x0A or 0x20 <= c <= 0x7E or 0xA0 <= c <= 0xD7FF or (0xE000 <= c <= 0xFFFD and c != 0xFEFF)


def format_float(value: float) -> str:  # noqa: PLR0911 - one return per notation
    """Go's ``strconv.FormatFloat(value, 'g', -1, 64)`` as yaml.v2 writes it (``.inf``, ``-.inf``, ``.nan``):
    the shortest digits that read back the same, with an exponent when it is below -4 or at least 6."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    decimal = Decimal(repr(abs(value))).normalize()
    _, digit_tuple, exponent = decimal.as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + exponent  # value = 0.DIGITS x 10^point
    exp = point - 1
    if exp < -4 or exp >= 6:
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{body}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{sign}{digits}{'0' * (point - len(digits))}"
    return f"{sign}{digits[:point]}.{digits[point:]}"


class _Style:
    PLAIN = "plain"
    SINGLE = "single"
    DOUBLE = "double"
    LITERAL = "literal"


class _Analysis:
    __slots__ = ("block_allowed", "block_plain_allowed", "multiline", "single_quoted_allowed")

    def __init__(self, value: str) -> None:
        if not value:
            self.multiline = False
            self.block_plain_allowed = True
            self.single_quoted_allowed = True
            self.block_allowed = False
            return
        block_indicators = value.startswith(("---", "..."))
        line_breaks = special = False
        leading_space = leading_break = trailing_space = trailing_break = False
        break_space = space_break = previous_space = previous_break = False
        preceded_by_whitespace = True
        n = len(value)
        for i, ch in enumerate(value):
            followed_by_whitespace = i + 1 >= n or value[i + 1] in " \t"
            if i == 0:
                if ch in "#,[]{}&*!|>'\"%@`" or (ch in "?:-" and followed_by_whitespace):
                    block_indicators = True
            elif (ch == ":" and followed_by_whitespace) or (ch == "#" and preceded_by_whitespace):
                block_indicators = True
            if not _printable(ch):
                special = True
            if ch == " ":
                leading_space = leading_space or i == 0
                trailing_space = trailing_space or i == n - 1
                break_space = break_space or previous_break
                previous_space, previous_break = True, False
            elif ch in _BREAKS:
                line_breaks = True
                leading_break = leading_break or i == 0
                trailing_break = trailing_break or i == n - 1
                space_break = space_break or previous_space
                previous_space, previous_break = False, True
            else:
                previous_space = previous_break = False
            preceded_by_whitespace = ch in " \t\0" or ch in _BREAKS
        self.multiline = line_breaks
        self.block_plain_allowed = not (
            leading_space
            or leading_break
            or trailing_space
            or trailing_break
            or break_space
            or space_break
            or special
            or line_breaks
            or block_indicators
        )
        self.single_quoted_allowed = not (break_space or space_break or special)
        self.block_allowed = not (trailing_space or space_break or special)


class _Emitter:
    """The part of libyaml's emitter (as ported in yaml.v2) that a block-style document of scalars, block
    mappings, block sequences and empty flow collections goes through, with yaml.v2's settings (unicode, indent 2,
    width 80, ``\\n`` breaks)."""

    def __init__(self, *, unsorted: object = None) -> None:
        #: A mapping written in its own order rather than sorted (bosh writes the entry it generated last from
        #: its struct, in field order).
        self.unsorted = unsorted
        self.out: list[str] = []
        self.column = 0
        self.whitespace = True
        self.indention = True
        self.indent = -1
        self.indents: list[int] = []
        self.mapping_context = False

    # - primitives -
    def put(self, text: str) -> None:
        self.out.append(text)
        self.column += len(text)

    def put_break(self) -> None:
        self.out.append("\n")
        self.column = 0

    def write_break(self, ch: str) -> None:
        if ch == "\n":
            self.put_break()
        else:
            self.out.append(ch)
            self.column = 0

    def increase_indent(self, *, flow: bool, indentless: bool) -> None:
        self.indents.append(self.indent)
        if self.indent < 0:
            self.indent = _BEST_INDENT if flow else 0
        elif not indentless:
            self.indent += _BEST_INDENT

    def pop_indent(self) -> None:
        self.indent = self.indents.pop()

    def write_indent(self) -> None:
        indent = max(self.indent, 0)
        if not self.indention or self.column > indent or (self.column == indent and not self.whitespace):
            self.put_break()
        if self.column < indent:
            self.put(" " * (indent - self.column))
        self.whitespace = True
        self.indention = True

    def write_indicator(
        self, indicator: str, *, need_whitespace: bool, is_whitespace: bool, is_indention: bool
    ) -> None:
        if need_whitespace and not self.whitespace:
            self.put(" ")
        self.put(indicator)
        self.whitespace = is_whitespace
        self.indention = self.indention and is_indention

    # - nodes -
    def node(self, value: Value, *, mapping: bool, simple_key: bool) -> None:
        self.mapping_context = mapping
        if isinstance(value, dict):
            self.mapping(value)
        elif isinstance(value, list):
            self.sequence(value)
        else:
            text, style = _scalar_event(value)
            self.scalar(text, style, _Analysis(text), simple_key=simple_key)

    def flow_empty(self, open_: str, close: str) -> None:
        self.write_indicator(open_, need_whitespace=True, is_whitespace=True, is_indention=False)
        self.increase_indent(flow=True, indentless=False)
        self.pop_indent()
        self.write_indicator(close, need_whitespace=False, is_whitespace=False, is_indention=False)

    def mapping(self, value: Mapping[object, Value]) -> None:
        if not value:
            self.flow_empty("{", "}")
            return
        self.increase_indent(flow=False, indentless=False)
        for key in list(value) if value is self.unsorted else sort_keys(list(value)):
            self.write_indent()
            text, style = _scalar_event(key)
            analysis = _Analysis(text)
            if not analysis.multiline and len(text.encode("utf-8")) <= 128:
                self.mapping_context = True
                self.scalar(text, style, analysis, simple_key=True)
                self.write_indicator(":", need_whitespace=False, is_whitespace=False, is_indention=False)
            else:
                self.write_indicator("?", need_whitespace=True, is_whitespace=False, is_indention=True)
                self.mapping_context = True
                self.scalar(text, style, analysis, simple_key=False)
                self.write_indent()
                self.write_indicator(":", need_whitespace=True, is_whitespace=False, is_indention=True)
            self.node(value[key], mapping=True, simple_key=False)
        self.pop_indent()

    def sequence(self, value: Sequence[Value]) -> None:
        if not value:
            self.flow_empty("[", "]")
            return
        self.increase_indent(flow=False, indentless=self.mapping_context and not self.indention)
        for item in value:
            self.write_indent()
            self.write_indicator("-", need_whitespace=True, is_whitespace=False, is_indention=True)
            self.node(item, mapping=False, simple_key=False)
        self.pop_indent()

    def scalar(self, text: str, style: str, analysis: _Analysis, *, simple_key: bool) -> None:
        if simple_key and analysis.multiline:
            style = _Style.DOUBLE
        if style == _Style.PLAIN and (not analysis.block_plain_allowed or (not text and simple_key)):
            style = _Style.SINGLE
        if style == _Style.SINGLE and not analysis.single_quoted_allowed:
            style = _Style.DOUBLE
        if style == _Style.LITERAL and (not analysis.block_allowed or simple_key):
            style = _Style.DOUBLE
        self.increase_indent(flow=True, indentless=False)
        allow_breaks = not simple_key
        if style == _Style.PLAIN:
            self.plain(text, allow_breaks=allow_breaks)
        elif style == _Style.SINGLE:
            self.single_quoted(text, allow_breaks=allow_breaks)
        elif style == _Style.DOUBLE:
            self.double_quoted(text, allow_breaks=allow_breaks)
        else:
            self.literal(text)
        self.pop_indent()

    # - scalar writers -
    def plain(self, value: str, *, allow_breaks: bool) -> None:
        if not self.whitespace:
            self.put(" ")
        spaces = breaks = False
        n = len(value)
        for i, ch in enumerate(value):
            if ch == " ":
                nxt = value[i + 1] if i + 1 < n else ""
                if allow_breaks and not spaces and self.column > _BEST_WIDTH and nxt != " ":
                    self.write_indent()
                else:
                    self.put(ch)
                spaces = True
            elif ch in _BREAKS:  # pragma: no cover - a scalar with a break is never plain
                if not breaks and ch == "\n":
                    self.put_break()
                self.write_break(ch)
                self.indention = True
                breaks = True
            else:
                if breaks:  # pragma: no cover - as above
                    self.write_indent()
                self.put(ch)
                self.indention = False
                spaces = breaks = False
        self.whitespace = False
        self.indention = False

    def single_quoted(self, value: str, *, allow_breaks: bool) -> None:
        self.write_indicator("'", need_whitespace=True, is_whitespace=False, is_indention=False)
        spaces = breaks = False
        n = len(value)
        for i, ch in enumerate(value):
            if ch == " ":
                nxt = value[i + 1] if i + 1 < n else ""
                if allow_breaks and not spaces and self.column > _BEST_WIDTH and 0 < i < n - 1 and nxt != " ":
                    self.write_indent()
                else:
                    self.put(ch)
                spaces = True
            elif ch in _BREAKS:
                if not breaks and ch == "\n":
                    self.put_break()
                self.write_break(ch)
                self.indention = True
                breaks = True
            else:
                if breaks:
                    self.write_indent()
                if ch == "'":
                    self.put("'")
                self.put(ch)
                self.indention = False
                spaces = breaks = False
        self.write_indicator("'", need_whitespace=False, is_whitespace=False, is_indention=False)
        self.whitespace = False
        self.indention = False

    def double_quoted(self, value: str, *, allow_breaks: bool) -> None:
        spaces = False
        self.write_indicator('"', need_whitespace=True, is_whitespace=False, is_indention=False)
        bom = value.startswith("\ufeff")  # yaml.v2's is_bom looks at the value's start, whatever the position
        n = len(value)
        for i, ch in enumerate(value):
            if not _printable(ch) or bom or ch in _BREAKS or ch in '"\\':
                self.put("\\" + _escape(ch))
                spaces = False
            elif ch == " ":
                if allow_breaks and not spaces and self.column > _BEST_WIDTH and 0 < i < n - 1:
                    self.write_indent()
                    if value[i + 1] == " ":
                        self.put("\\")
                else:
                    self.put(ch)
                spaces = True
            else:
                self.put(ch)
                spaces = False
        self.write_indicator('"', need_whitespace=False, is_whitespace=False, is_indention=False)
        self.whitespace = False
        self.indention = False

    def literal(self, value: str) -> None:
        self.write_indicator("|", need_whitespace=True, is_whitespace=False, is_indention=False)
        if value[:1] == " " or value[:1] in _BREAKS:
            self.write_indicator(str(_BEST_INDENT), need_whitespace=False, is_whitespace=False, is_indention=False)
        chomp = ""
        if value[-1] not in _BREAKS:
            chomp = "-"
        elif len(value) == 1 or value[-2] in _BREAKS:
            chomp = "+"
        if chomp:
            self.write_indicator(chomp, need_whitespace=False, is_whitespace=False, is_indention=False)
        self.put_break()
        self.indention = True
        self.whitespace = True
        breaks = True
        for ch in value:
            if ch in _BREAKS:
                self.write_break(ch)
                self.indention = True
                breaks = True
            else:
                if breaks:
                    self.write_indent()
                self.put(ch)
                self.indention = False
                breaks = False


_ESCAPES = {
    0x00: "0",
    0x07: "a",
    0x08: "b",
    0x09: "t",
    0x0A: "n",
    0x0B: "v",
    0x0C: "f",
    0x0D: "r",
    0x1B: "e",
    0x22: '"',
    0x5C: "\\",
    0x85: "N",
    0xA0: "_",
    0x2028: "L",
    0x2029: "P",
}


def _escape(ch: str) -> str:
    code = ord(ch)
    if code in _ESCAPES:
        return _ESCAPES[code]
    if code <= 0xFF:
        return f"x{code:02X}"
    if code <= 0xFFFF:
        return f"u{code:04X}"
    return f"U{code:08X}"


def _scalar_event(value: object) -> tuple[str, str]:
    """(text, requested style) of a scalar, as encode.go's ``marshal`` makes the event."""
    if value is None:
        return "null", _Style.PLAIN
    if isinstance(value, bool):
        return ("true" if value else "false"), _Style.PLAIN
    if isinstance(value, int):
        return str(value), _Style.PLAIN
    if isinstance(value, float):
        return format_float(value), _Style.PLAIN
    if isinstance(value, str):
        if _has_surrogate(value):
            raise Unrepresentable("text that is not valid Unicode")
        if "\n" in value:
            return value, _Style.LITERAL
        return value, (_Style.PLAIN if resolves_to_string(value) else _Style.DOUBLE)
    raise Unrepresentable(f"a value of type {type(value).__name__}")


def _has_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def emit_document(value: Mapping[Any, Value]) -> str:
    """The whole text yaml.v2's ``Marshal`` writes for a mapping (``{}`` when it is empty)."""
    emitter = _Emitter()
    emitter.node(dict(value), mapping=False, simple_key=False)
    emitter.write_indent()
    return "".join(emitter.out)


def emit_entry(name: str, value: Value, *, sort_top: bool = True) -> str:
    """The text of one top-level entry as bosh writes it in its var-store, ending with a newline. ``sort_top``
    false: the fields of a mapping value in their own order, as bosh writes the entry it generated last."""
    emitter = _Emitter(unsorted=None if sort_top else value)
    emitter.node({name: value}, mapping=False, simple_key=False)
    emitter.write_indent()
    return "".join(emitter.out)
