"""The paper-style text format of algorithms: printer and parser (docs/semantics.md §2).

Everything here is derived from the op table: the printer fills ``Op.fmt`` and
the parser matches token sequences built from ``Op.fmt`` and ``Op.alt_fmts``,
so adding an op row needs no change in this module.

Text produced by :func:`format_algorithm` parses back to an equal algorithm
(constants are printed with the shortest text that round-trips exactly; NaNs
are canonicalised to ``math.nan``, so compare NaN constants by ``math.isnan``).
The parser also reads the original's and the paper's printouts::

    def Setup():   s2 = 0.001          # instructions may follow the colon
    def Predict(): s1 = dot(v0, v1)
    def Learn():   s3 = s0 - s1; s4 = s3 * s2; v2 = v0 * s4; v1 = v1 + v2

Const-set indices are printed as the stored float code in [0, 1) (as the
original does). When parsing, an index written with a ``.`` or an exponent is
such a code (1.0 is accepted: the executor clamps it to the last element). An
integer literal ``k`` (paper Table S1 style, ``v3[5] = -2.4``) is element ``k``
and needs ``feature_size``; without it only ``0`` (code 0.0) and ``1`` (the
original's ``%g`` print of a code in [0.9999995, 1), read as the largest
float32 below 1) are accepted.

Program text is ASCII outside comments: a non-ASCII character (such as the
Arabic-Indic digit in ``s٣``, which Python's ``int`` would read as 3) or a
control character is an error naming its line and column. Lines end at
``\n``, ``\r\n`` or ``\r`` only. Error messages quote at most
``EXCERPT_LIMIT`` characters of the text.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from automl_zero.errors import EXCERPT_LIMIT, ProgramParseError, excerpt
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.instruction import Instruction, index_to_float
from automl_zero.language.ops import OPS, Kind, Op
from automl_zero.language.printer import (
    _CONSTANT_SLOTS,
    _TOP_INDEX_CODE,
    COMPONENT_NAMES,
    MAX_ADDRESS,
    _round_float32,
    constant_slots,
    format_algorithm,
    format_instruction,
    format_number,
    index_slots,
    stored_constant,
)

__all__ = [
    "MAX_ADDRESS",
    "format_number",
    "format_instruction",
    "format_algorithm",
    "parse_instruction",
    "parse_algorithm",
    "constant_slots",
    "index_slots",
    "stored_constant",
]

# --------------------------------------------------------------------------
# Tokens shared by the op templates and the parsed text. Whitespace separates
# tokens and is otherwise ignored.

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|(?i:inf(?:inity)?|nan))(?![\w.]))
  | (?P<addr>[svm]\d+(?![\w.]))
  | (?P<badaddr>[svm](?:-\d+|\d+[\w.]+)(?![\w.]))
  | (?P<badnum>[+-]?\.?\d(?:[eE][+-]|[\w.])*)
  | (?P<word>[A-Za-z_]\w*)
  | (?P<punct>\S)
    """,
    re.VERBOSE | re.ASCII,
)
_INT_LITERAL_RE = re.compile(r"\+?\d+", re.ASCII)
# Integer element indices beyond this are out of range for any feature size.
_MAX_INDEX_LITERAL = 10**9
# Characters allowed outside comments: printable ASCII and tab.
_BAD_CHAR_RE = re.compile(r"[^\t\x20-\x7e]")

# Token kinds. In strict-match keys, address and number tokens are these ints
# and every other token is its text (a str), so they can never collide.
_ADDR, _NUM, _LIT, _BADADDR, _BADNUM = 0, 1, 2, 3, 4
_KIND_OF_GROUP = {"num": _NUM, "addr": _ADDR, "badaddr": _BADADDR, "badnum": _BADNUM,
                  "word": _LIT, "punct": _LIT}


@dataclass(frozen=True)
class _Token:
    kind: int
    text: str


def _tokenize(text: str) -> list[_Token]:
    return [_Token(_KIND_OF_GROUP[m.lastgroup], m.group())
            for m in _TOKEN_RE.finditer(text) if m.lastgroup != "ws"]


def _token_key(tok: _Token) -> int | str:
    if tok.kind in (_ADDR, _NUM):
        return tok.kind
    if tok.kind == _LIT:
        return tok.text
    return -1  # malformed: matches no template


@dataclass(frozen=True)
class _Slot:
    """One template token: an address, a constant, a fixed number or literal text."""

    kind: int  # _ADDR, _NUM or _LIT
    text: str = ""  # _LIT: the text; _NUM: the fixed number's text ("" = a constant)
    letter: str = ""  # _ADDR: "s", "v" or "m"
    field: str = ""  # _ADDR: "o", "a" or "b"; _NUM constant: "d0", "d1" or "d2"

    @property
    def key(self) -> int | str:
        return self.text if self.kind == _LIT else self.kind


@dataclass(frozen=True)
class _Template:
    op: Op
    fmt: str
    slots: tuple[_Slot, ...]

    @property
    def key(self) -> tuple[int | str, ...]:
        return tuple(s.key for s in self.slots)


_PLACEHOLDER_RE = re.compile(r"(?P<letter>[svm])\{(?P<addr>[oab])\}|\{(?P<const>d[012])\}")
_FIELD_KIND = {"o": "out", "a": "in1", "b": "in2"}


def _compile_template(op: Op, fmt: str) -> _Template:
    slots: list[_Slot] = []

    def literal(text: str) -> None:
        for tok in _tokenize(text):
            if tok.kind == _NUM:
                slots.append(_Slot(_NUM, text=tok.text))
            elif tok.kind == _LIT:
                slots.append(_Slot(_LIT, text=tok.text))
            else:
                raise ValueError(f"{op.name}: cannot tokenize {text!r} in {fmt!r}")

    pos = 0
    for m in _PLACEHOLDER_RE.finditer(fmt):
        literal(fmt[pos:m.start()])
        if m.group("addr"):
            field = m.group("addr")
            kind = getattr(op, _FIELD_KIND[field])
            if kind == Kind.NONE or kind.letter != m.group("letter"):
                raise ValueError(f"{op.name}: {m.group()} in {fmt!r} does not match the op")
            slots.append(_Slot(_ADDR, letter=m.group("letter"), field=field))
        else:
            slots.append(_Slot(_NUM, field=m.group("const")))
        pos = m.end()
    literal(fmt[pos:])
    return _Template(op, fmt, tuple(slots))


def _build_templates() -> tuple[list[_Template], dict[tuple, list[_Template]]]:
    templates = [_compile_template(op, fmt) for op in OPS for fmt in (op.fmt, *op.alt_fmts)]
    by_key: dict[tuple, list[_Template]] = {}
    for t in templates:
        by_key.setdefault(t.key, []).append(t)
    return templates, by_key


_TEMPLATES, _TEMPLATES_BY_KEY = _build_templates()
_TEMPLATES_BY_LENGTH: dict[int, list[_Template]] = {}
for _t in _TEMPLATES:
    _TEMPLATES_BY_LENGTH.setdefault(len(_t.slots), []).append(_t)
del _t
_KIND_NAMES = {"s": "scalar", "v": "vector", "m": "matrix"}
_FUNCTION_NAMES = sorted({  # every word followed by "(" in some form, e.g. "dot"
    s.text for t in _TEMPLATES
    for s, nxt in zip(t.slots, t.slots[1:], strict=False)
    if s.kind == _LIT and nxt.text == "(" and re.fullmatch(r"[A-Za-z_]\w*", s.text)})


# --------------------------------------------------------------------------
# Instruction parser


class _LineError(Exception):
    """A parse error without the line number (added by the caller)."""


def _match(template: _Template, tokens: list[_Token]) -> dict[str, str] | None:
    """The fields of ``tokens`` if they are an instance of ``template``, else None."""
    fields: dict[str, str] = {}
    for slot, tok in zip(template.slots, tokens, strict=True):
        if slot.kind == _ADDR:
            if tok.text[0] != slot.letter:
                return None
            fields[slot.field] = tok.text[1:]
        elif slot.kind == _NUM:
            if slot.text:  # a fixed number such as the 1 of "1 / s3"
                if float(tok.text) != float(slot.text):
                    return None
            else:
                fields[slot.field] = tok.text
    return fields


def _small_int(digits: str, limit: int) -> int | None:
    """``int(digits)`` if it is at most ``limit``, else None (never converts
    thousands of digits: ``int`` refuses more than 4300)."""
    significant = digits.lstrip("+").lstrip("0")
    if len(significant) > len(str(limit)):
        return None
    value = int(significant or "0")
    return value if value <= limit else None


def _index_code(text: str, feature_size: int | None) -> float:
    """The stored code of a const-set index written as ``text``."""
    if _INT_LITERAL_RE.fullmatch(text):
        k = _small_int(text, _MAX_INDEX_LITERAL)
        if feature_size is not None:
            if k is None or k >= feature_size:
                raise _LineError(f"element index {_cut(text, 32)} is out of range for "
                                 f"feature size {feature_size} (0..{feature_size - 1})")
            return index_to_float(k, feature_size)
        if k is None:
            raise _LineError(f"element index {_cut(text, 32)} is out of range (0..F-1 "
                             f"for feature size F)")
        if k == 0:
            return 0.0
        if k == 1:  # the original's "%g" print of a code in [0.9999995, 1)
            return _TOP_INDEX_CODE
        raise _LineError(f"integer element index {k} needs the feature size F: pass "
                         f"feature_size (CLI: --config), or write the index code "
                         f"({k} + 0.5) / F, a number in [0, 1)")
    value = _round_float32(float(text))
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise _LineError(f"index {_cut(text, 32)} is neither an index code in [0, 1) "
                         f"nor an integer element index")
    return value


def _instruction(template: _Template, fields: dict[str, str],
                 feature_size: int | None) -> Instruction:
    op = template.op
    addr = {}
    for field in ("a", "b", "o"):
        if field in fields:
            value = _small_int(fields[field], MAX_ADDRESS)
            if value is None:
                raise _LineError(f"address {_cut(fields[field], 32)} is out of range "
                                 f"(0..{MAX_ADDRESS})")
            addr[field] = value
    data = [0.0, 0.0, 0.0]
    for slot in _CONSTANT_SLOTS[op.code]:
        text = fields[f"d{slot}"]
        if slot in index_slots(op):
            data[slot] = _index_code(text, feature_size)
        else:
            data[slot] = stored_constant(op, slot, float(text))
    # Unused addresses and constants are 0, as Instruction.make leaves them.
    return Instruction(op.code, addr.get("a", 0), addr.get("b", 0), addr.get("o", 0),
                       (data[0], data[1], data[2]))


def _cut(text: str, limit: int = EXCERPT_LIMIT) -> str:
    """``text`` cut to ``limit`` characters (ending in ``…`` if cut), unquoted."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _render(template: _Template, tokens: list[_Token]) -> str:
    """``template`` written with the user's address numbers (for suggestions)."""
    values = {}
    for slot, tok in zip(template.slots, tokens, strict=True):
        if slot.kind == _ADDR:
            digits = re.sub(r"\D", "", tok.text)
            values[slot.field] = _cut(digits or "0", 8)
        elif slot.kind == _NUM and not slot.text:
            values[slot.field] = _cut(tok.text, 24)
    return template.fmt.format(**values)


def _literal_operand_hint(template: _Template, tokens: list[_Token], pos: int) -> str:
    slot = template.slots[pos]
    letter = slot.letter
    values = {}
    for i, (s, tok) in enumerate(zip(template.slots, tokens, strict=True)):
        if s.kind == _ADDR:
            values[s.field] = "K" if i == pos else _cut(tok.text[1:], 8)
        elif s.kind == _NUM and not s.text:  # a constant, e.g. the 0.2 of "2 = 0.2"
            values[s.field] = _cut(tok.text, 24)
    suggestion = template.fmt.format(**values)
    literal = tokens[pos].text
    if slot.field == "o":
        return (f"the number {excerpt(literal)} stands where the output address goes; "
                f"an instruction writes to an address, e.g. {suggestion!r} with K a "
                f"{_KIND_NAMES[letter]} address number")
    if float(literal) == 0.0:
        keep = f"{letter}K is an address that is never written (so it stays zero)"
    elif letter == "s":
        keep = f"{letter}K is set by 'sK = {_cut(literal, 24)}' in Setup"
    else:
        keep = f"{letter}K holds the constant (set it in Setup)"
    return (f"literal constants are not operands ({excerpt(literal)} here); keep the "
            f"constant in memory instead, e.g. {suggestion!r} where {keep}")


def _bad_token(tok: _Token, quoted: str) -> str:
    if tok.kind == _BADADDR:
        what = "negative" if "-" in tok.text else "malformed"
        return f"{what} address {excerpt(tok.text)} in {quoted}"
    return f"bad number {excerpt(tok.text)} in {quoted}"


def _diagnose(text: str, tokens: list[_Token]) -> str:
    """Why ``tokens`` matched no template: the most specific message we can give."""
    best: tuple[int, list[tuple[int, int]], _Template] | None = None
    for t in _TEMPLATES_BY_LENGTH.get(len(tokens), ()):
        if any(s.kind == _LIT and (tok.kind != _LIT or tok.text != s.text)
               for s, tok in zip(t.slots, tokens, strict=True)):
            continue
        problems = []  # (position, problem kind)
        for pos, (s, tok) in enumerate(zip(t.slots, tokens, strict=True)):
            if tok.kind in (_BADADDR, _BADNUM):
                problems.append((pos, tok.kind))
            elif s.kind == _ADDR and tok.kind == _NUM:
                problems.append((pos, _NUM))  # literal constant as an operand
            elif s.kind == _ADDR and (tok.kind != _ADDR or tok.text[0] != s.letter):
                problems.append((pos, _ADDR))  # wrong address type
            elif s.kind == _NUM and tok.kind != _NUM:
                problems.append((pos, _LIT))  # an address where a number belongs
            elif s.kind == _NUM and s.text and float(tok.text) != float(s.text):
                problems.append((pos, _LIT))  # e.g. heaviside(s1, 0.5)
        if best is None or len(problems) < len(best[1]):
            best = (len(problems), problems, t)
    quoted = excerpt(text)
    if best is not None:
        _, problems, t = best
        for pos, kind in problems:
            tok = tokens[pos]
            if kind in (_BADADDR, _BADNUM):
                return _bad_token(tok, quoted)
            if kind == _NUM:
                return f"{quoted}: " + _literal_operand_hint(t, tokens, pos)
        if all(kind == _ADDR for _, kind in problems):
            forms = [_render(c, tokens) for c in _TEMPLATES_BY_LENGTH[len(tokens)]
                     if c.key == t.key and c.fmt == c.op.fmt]
            return (f"{quoted} is not an instruction of the op set (address types do not "
                    f"match any op; forms of this shape: {', '.join(forms)})")
        if len(problems) == 1 and t.slots[problems[0][0]].text:
            return (f"{quoted} is not an instruction of the op set (did you mean "
                    f"{_render(t, tokens)!r}?)")
    for tok in tokens:
        if tok.kind in (_BADADDR, _BADNUM):
            return _bad_token(tok, quoted)
    for tok, nxt in zip(tokens, tokens[1:], strict=False):
        if (tok.kind == _LIT and nxt.text == "(" and tok.text not in _FUNCTION_NAMES
                and re.fullmatch(r"[A-Za-z_]\w*", tok.text, re.ASCII)):
            close = (difflib.get_close_matches(tok.text, _FUNCTION_NAMES, n=1)
                     if len(tok.text) <= 40 else [])
            hint = f"did you mean {close[0]!r}? " if close else ""
            return (f"unknown function {excerpt(tok.text)} in {quoted} ({hint}known: "
                    f"{', '.join(_FUNCTION_NAMES)})")
    return f"{quoted} is not an instruction of the op set"


def _check_characters(text: str) -> None:
    """Refuse non-ASCII and control characters (outside comments), naming the first."""
    bad = _BAD_CHAR_RE.search(text)
    if bad is None:
        return
    char = bad.group()
    name = unicodedata.name(char, "")
    if char.isdigit():
        hint = "; digits must be ASCII 0-9"
    elif char.isspace():
        hint = "; use ASCII spaces"
    elif unicodedata.category(char) in ("Cc", "Cs", "Cn", "Co"):
        hint = ""
    else:
        hint = "; program text is ASCII outside comments"
    what = f"U+{ord(char):04X}" + (f" {name}" if name else "")
    kind = ("control character" if unicodedata.category(char) == "Cc"
            else "invalid character" if not name else "non-ASCII character")
    raise _LineError(f"{kind} {what} at column {bad.start() + 1} of "
                     f"{excerpt(text)}{hint}")


def _parse_instruction(text: str, feature_size: int | None) -> Instruction:
    tokens = _tokenize(text)
    key = tuple(_token_key(tok) for tok in tokens)
    for template in _TEMPLATES_BY_KEY.get(key, ()):
        fields = _match(template, tokens)
        if fields is not None:
            try:
                return _instruction(template, fields, feature_size)
            except _LineError as exc:
                raise _LineError(f"{excerpt(text)}: {exc}") from None
    raise _LineError(_diagnose(text, tokens))


def _check_feature_size(feature_size: int | None) -> None:
    if feature_size is not None and (isinstance(feature_size, bool)
                                     or not isinstance(feature_size, int | np.integer)
                                     or feature_size < 1):
        raise ValueError(f"feature_size must be a positive int, got {excerpt(feature_size)}")


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(f"program text must be a str, got {type(text).__name__}")
    return text


def parse_instruction(text: str, feature_size: int | None = None) -> Instruction:
    """Parse one instruction such as ``s3 = s0 - s1`` (a trailing ``# comment`` is ignored).

    ``feature_size`` is needed only for const-set indices written as integer
    element numbers (``v3[5] = -2.4``; see the module docstring for ``0`` and
    ``1``). Raises ``ProgramParseError``.
    """
    _check_feature_size(feature_size)
    text = _check_text(text).split("#", 1)[0]
    try:
        _check_characters(text)
        return _parse_instruction(text.strip(), feature_size)
    except _LineError as exc:
        raise ProgramParseError(str(exc)) from None


_HEADER_RE = re.compile(r"def\b\s*(?P<name>\w*)\s*(?P<args>\([^)]*\))?\s*(?P<colon>:?)(?P<rest>.*)",
                        re.ASCII)
_NEWLINE_RE = re.compile(r"\r\n|\r|\n")


def _parse_header(header: re.Match[str], line: str, components: dict) -> str:
    """The component name of a ``def Name():`` line (checked)."""
    name = header.group("name").capitalize()
    if name not in COMPONENT_NAMES:
        raise _LineError(f"unknown component function {excerpt(line)} (expected "
                         f"def Setup():, def Predict(): or def Learn():)")
    if header.group("args") is None or header.group("args").replace(" ", "") \
            != "()" or not header.group("colon"):
        raise _LineError(f"malformed header {excerpt(line)} (expected def {name}():)")
    if name in components:
        raise _LineError(f"duplicate def {name}()")
    return name


def parse_algorithm(text: str, feature_size: int | None = None) -> Algorithm:
    """Parse an algorithm printed by :func:`format_algorithm`, the original or the paper.

    Comments, blank lines, ``pass`` and ``;``-separated instructions are allowed;
    components may come in any order, at most once each, and missing ones are
    empty (so empty text is the empty algorithm; ``load_algorithm`` refuses
    empty files). A leading byte order mark is ignored. Raises
    ``ProgramParseError`` whose message starts with ``line N:``.
    """
    _check_feature_size(feature_size)
    text = _check_text(text).removeprefix("\ufeff")
    components: dict[str, list[Instruction]] = {}
    current: list[Instruction] | None = None
    for number, raw in enumerate(_NEWLINE_RE.split(text), start=1):
        line = raw.split("#", 1)[0]
        try:
            _check_characters(line)
            line = line.strip()
            if not line:
                continue
            header = _HEADER_RE.fullmatch(line)
            if header:
                name = _parse_header(header, line, components)
                current = components[name] = []
                line = header.group("rest")
            for part in line.split(";"):
                part = part.strip()
                if not part or part == "pass":
                    continue
                if current is None:
                    raise _LineError(f"instruction outside def Setup()/Predict()/Learn(): "
                                     f"{excerpt(part)}")
                current.append(_parse_instruction(part, feature_size))
        except _LineError as exc:
            raise ProgramParseError(f"line {number}: {exc}") from None
    return Algorithm(*(tuple(components.get(name, ())) for name in COMPONENT_NAMES))
