"""Scalars as bosh reads them: the resolution rules of gopkg.in/yaml.v2 v2.4.0 (resolve.go, decode.go).

bosh parses a var-store with yaml.v2 into ``interface{}`` values, so what a job receives depends on how yaml.v2
resolves each scalar, not only on its text:

* a quoted scalar, one tagged ``!`` or ``!!str``, is a string;
* a plain scalar is a boolean (``y``, ``yes``, ``on``, ``true``... and their negations), a null (``~``, ``null``,
  nothing), a float (``.inf``, ``.nan``, ``1e5``, ``1.0``), an integer (``strconv.ParseInt(text, 0, 64)`` with
  every ``_`` removed: ``0123`` is octal 83, ``0x1F`` is 31, ``0b101`` is 5), or else a string. A timestamp stays
  a string (yaml.v2 keeps the text for ``interface{}``);
* ``!!int``, ``!!float``, ``!!bool``, ``!!null``, ``!!timestamp`` resolve the text as a plain scalar would, and the
  result must have that type (``!!float`` also takes an integer) or yaml.v2 fails: bosh cannot read the file;
* ``!!binary`` is base64 (line breaks ignored), decoded: ``!!binary aGVsbG8=`` is the string ``hello``.

:func:`resolve` returns a :class:`str` for a string, ``None`` for a null and a :class:`~creds_lint.model.Typed`
for a number or a boolean, which compares by type and value (``0123`` equals ``83``, never ``"0123"``).
Nothing here includes the scalar's text in an error message.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from datetime import date, datetime

from creds_lint.model import Typed, YamlType

_CORE = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (_CORE + t for t in ("str", "int", "float", "bool", "null"))
TIMESTAMP, BINARY = _CORE + "timestamp", _CORE + "binary"
#: The tags yaml.v2 resolves (and ``!!binary``, which it decodes); any other tag is refused by the loader.
TAGS = frozenset((STR, INT, FLOAT, BOOL, NULL, TIMESTAMP, BINARY))

_TRUE = ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")
_FALSE = ("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")
_MAP: dict[str, Typed | None] = {
    **{text: Typed(type=YamlType.BOOL, canonical="true") for text in _TRUE},
    **{text: Typed(type=YamlType.BOOL, canonical="false") for text in _FALSE},
    **dict.fromkeys(("", "~", "null", "Null", "NULL")),
    **{text: Typed(type=YamlType.FLOAT, canonical="nan") for text in (".nan", ".NaN", ".NAN")},
    **{text: Typed(type=YamlType.FLOAT, canonical="inf") for text in (".inf", ".Inf", ".INF")},
    **{text: Typed(type=YamlType.FLOAT, canonical="inf") for text in ("+.inf", "+.Inf", "+.INF")},
    **{text: Typed(type=YamlType.FLOAT, canonical="-inf") for text in ("-.inf", "-.Inf", "-.INF")},
}
#: First characters after which yaml.v2 looks further (resolveTable); any other first character is a string.
HINTED = frozenset("+-0123456789yYnNtTfFoO~.")
_YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?")
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_INT64 = 1 << 63
_UINT64 = 1 << 64
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:(?:[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})([.,]\d+)?(?:Z|[+-]\d{2}:\d{2}))"
    r"|(?: (\d{1,2}):(\d{1,2}):(\d{1,2})([.,]\d+)?))?"
)
_NAMES = {INT: "!!int", FLOAT: "!!float", BOOL: "!!bool", NULL: "!!null", TIMESTAMP: "!!timestamp"}


class Unreadable(ValueError):
    """yaml.v2 refuses the scalar: bosh cannot read the file. The message never holds the scalar's text."""


def may_resolve(plain: str) -> bool:
    """Whether a plain scalar may be something other than the string it spells (empty, or its first character is
    one yaml.v2 looks further after)."""
    return not plain or plain[0] in HINTED


def resolve(text: str, *, tag: str | None, plain: bool) -> str | Typed | None:
    """What yaml.v2 decodes a scalar into. ``tag`` is the resolved tag (``None`` for none, ``"!"`` for the
    non-specific tag), ``plain`` whether the scalar was written without quotes."""
    if tag is None:
        return _plain(text) if plain else text
    if tag in ("!", STR):
        return text
    if tag == BINARY:
        return _binary(text)
    if tag == TIMESTAMP:
        if not _is_timestamp(text):
            raise Unreadable("a !!timestamp value that is not a timestamp")
        return text
    resolved, value = _resolved(text)
    if resolved == tag or (tag == FLOAT and resolved == INT):
        return value
    expected = {INT: "an integer", FLOAT: "a number", BOOL: "a boolean"}.get(tag, "a null")
    raise Unreadable(f"a {_NAMES.get(tag, 'tagged')} value that is not {expected}")


def plain_tag(text: str) -> str:
    """The tag yaml.v2 resolves an untagged plain scalar to: :data:`TIMESTAMP` for a timestamp (which bosh then
    reads as its text), else the tag of what :func:`resolve` returns. yaml.v2 writes a string whose plain tag is
    not :data:`STR` in double quotes (:mod:`creds_lint.emitter`)."""
    if text and text[0] in "0123456789" and _is_timestamp(text):
        return TIMESTAMP
    return _resolved(text)[0]


def _plain(text: str) -> str | Typed | None:
    return _resolved(text)[1]


def _resolved(text: str) -> tuple[str, str | Typed | None]:
    """(the tag yaml.v2 resolves a plain scalar to, its value)."""
    if not text:
        return NULL, None
    if text[0] not in HINTED:
        return STR, text
    if text in _MAP:
        value = _MAP[text]
        return (NULL if value is None else BOOL if value.type is YamlType.BOOL else FLOAT), value
    if text[0] == ".":  # strconv.ParseFloat(text): underscores between digits, as Go's number syntax allows them
        plain = text.replace("_", "")
        return _float(plain) if _DOT_FLOAT.fullmatch(plain) and _underscores_ok(text) else (STR, text)
    if text[0] in "+-0123456789":
        return _number(text)
    return STR, text


def _underscores_ok(text: str) -> bool:
    """Go's ``underscoreOK`` for a number without a base prefix: each ``_`` between two digits."""
    return all(
        text[i - 1 : i].isdigit() and text[i + 1 : i + 2].isdigit() for i, char in enumerate(text) if char == "_"
    )


def _number(text: str) -> tuple[str, str | Typed]:
    """ParseInt(plain, 0, 64), then ParseUint, then a YAML-style float, as resolve.go tries them."""
    plain = text.replace("_", "")
    integer = _go_parse_int(plain)
    if integer is not None:
        return INT, Typed(type=YamlType.INT, canonical=str(integer))
    if _YAML_STYLE_FLOAT.fullmatch(plain):
        return _float(plain)
    if plain.startswith("0b") and plain[2:3] in ("+", "-") and plain[3:]:
        # resolve.go's last try, ParseInt(plain[2:], 2, 64), takes a sign after the prefix: "0b-101" is -5
        magnitude = _go_parse_uint("0b" + plain[3:])
        if magnitude is not None:
            value = -magnitude if plain[2] == "-" else magnitude
            if -_INT64 <= value < _INT64:
                return INT, Typed(type=YamlType.INT, canonical=str(value))
    return STR, text


def _float(text: str) -> tuple[str, str | Typed]:
    """strconv.ParseFloat of a decimal float; out of range (``1e400``) is an error there, so a string here."""
    value = float(text)
    if math.isinf(value):
        return STR, text
    return FLOAT, number(value)


def number(value: float) -> Typed:
    """A float as bosh passes it on. yaml.v2 writes a float with ``FormatFloat(f, 'g', -1, 64)``: a whole number
    below 10**6 has neither point nor exponent (``1.0`` is written ``1``) and is read back as that integer, so
    it is the same value as the integer; any other float keeps its type."""
    if value.is_integer() and abs(value) < 1e6:
        return Typed(type=YamlType.INT, canonical=str(int(value)))
    return Typed(type=YamlType.FLOAT, canonical="nan" if math.isnan(value) else repr(value))


def _go_parse_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64), else strconv.ParseUint(text, 0, 64) (no sign), else ``None``."""
    negative = text[:1] == "-"
    signed = text[:1] in "+-" and text != ""
    magnitude = _go_parse_uint(text[1:] if signed else text)
    if magnitude is None:
        return None
    if negative:
        return -magnitude if magnitude <= _INT64 else None
    if magnitude < _INT64 or not signed:
        return magnitude  # below 2**64 by construction: int64, or uint64 when unsigned
    return None


def _go_parse_uint(text: str) -> int | None:
    """strconv.ParseUint(text, 0, 64): ``0x``/``0o``/``0b`` prefixes, a leading ``0`` for octal."""
    if not text:
        return None
    base, digits = 10, text
    if text[0] == "0":
        prefix = text[1:2].lower()
        if len(text) >= 3 and prefix in ("b", "o", "x"):
            base, digits = {"b": 2, "o": 8, "x": 16}[prefix], text[2:]
        else:
            base, digits = 8, text[1:]
    value = 0
    for char in digits.lower():
        digit = _DIGITS.find(char)
        if digit < 0 or digit >= base:
            return None
        value = value * base + digit
        if value >= _UINT64:
            return None
    return value


def _binary(text: str) -> str:
    """base64.StdEncoding.DecodeString, which ignores line breaks; the bytes as Go keeps them in a string."""
    compact = text.replace("\r", "").replace("\n", "")
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise Unreadable("a !!binary value that is not valid base64") from None
    return data.decode("utf-8", "surrogateescape")


def _is_timestamp(text: str) -> bool:
    """One of the layouts yaml.v2 accepts (allowedTimestampFormats), with a valid date and time."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return False
    year, month, day = (int(match.group(i)) for i in (1, 2, 3))
    clock = [g for g in match.groups()[3:] if g is not None and not g.startswith((".", ","))]
    try:
        date(year, month, day)
        if clock:
            hour, minute, second = (int(c) for c in clock[:3])
            datetime(year, month, day, hour, minute, second)
    except ValueError:
        return False
    return True
