"""The paper-style text format of algorithms: printer and parser (SPEC §2, §4).

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
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import numpy as np

from automl_zero.errors import ProgramParseError
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
    re.VERBOSE,
)
_INT_LITERAL_RE = re.compile(r"\+?\d+")

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


def _index_code(text: str, feature_size: int | None) -> float:
    """The stored code of a const-set index written as ``text``."""
    if _INT_LITERAL_RE.fullmatch(text):
        k = int(text)
        if feature_size is not None:
            if k >= feature_size:
                raise _LineError(f"element index {k} is out of range for feature size "
                                 f"{feature_size} (0..{feature_size - 1})")
            return index_to_float(k, feature_size)
        if k == 0:
            return 0.0
        if k == 1:  # the original's "%g" print of a code in [0.9999995, 1)
            return _TOP_INDEX_CODE
        raise _LineError(f"integer element index {k} needs the feature size F: pass "
                         f"feature_size (CLI: --config), or write the index code "
                         f"({k} + 0.5) / F, a number in [0, 1)")
    value = _round_float32(float(text))
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise _LineError(f"index {text} is neither an index code in [0, 1) nor an "
                         f"integer element index")
    return value


def _instruction(template: _Template, fields: dict[str, str],
                 feature_size: int | None) -> Instruction:
    op = template.op
    addr = {}
    for field in ("a", "b", "o"):
        if field in fields:
            value = int(fields[field])
            if value > MAX_ADDRESS:
                raise _LineError(f"address {value} is out of range (0..{MAX_ADDRESS})")
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


def _render(template: _Template, tokens: list[_Token]) -> str:
    """``template`` written with the user's address numbers (for suggestions)."""
    values = {}
    for slot, tok in zip(template.slots, tokens, strict=True):
        if slot.kind == _ADDR:
            digits = re.sub(r"\D", "", tok.text)
            values[slot.field] = digits or "0"
        elif slot.kind == _NUM and not slot.text:
            values[slot.field] = tok.text
    return template.fmt.format(**values)


def _literal_operand_hint(template: _Template, tokens: list[_Token], pos: int) -> str:
    letter = template.slots[pos].letter
    values = {slot.field: "K" if i == pos else tok.text[1:]
              for i, (slot, tok) in enumerate(zip(template.slots, tokens, strict=True))
              if slot.kind == _ADDR}
    suggestion = template.fmt.format(**values)
    literal = tokens[pos].text
    if float(literal) == 0.0:
        keep = f"{letter}K is an address that is never written (so it stays zero)"
    elif letter == "s":
        keep = f"{letter}K is set by 'sK = {literal}' in Setup"
    else:
        keep = f"{letter}K holds the constant (set it in Setup)"
    return (f"literal constants are not operands ({literal!r} here); keep the constant "
            f"in memory instead, e.g. {suggestion!r} where {keep}")


def _diagnose(text: str, tokens: list[_Token]) -> str:
    """Why ``tokens`` matched no template: the most specific message we can give."""
    best: tuple[int, list[tuple[int, int]], _Template] | None = None
    for t in _TEMPLATES:
        if len(t.slots) != len(tokens):
            continue
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
    quoted = repr(text)
    if best is not None:
        _, problems, t = best
        for pos, kind in problems:
            tok = tokens[pos]
            if kind == _BADADDR:
                what = "negative" if "-" in tok.text else "malformed"
                return f"{what} address {tok.text!r} in {quoted}"
            if kind == _BADNUM:
                return f"bad number {tok.text!r} in {quoted}"
            if kind == _NUM:
                return f"{quoted}: " + _literal_operand_hint(t, tokens, pos)
        if all(kind == _ADDR for _, kind in problems):
            forms = [_render(c, tokens) for c in _TEMPLATES if len(c.slots) == len(tokens)
                     and c.key == t.key and c.fmt == c.op.fmt]
            return (f"{quoted} is not an instruction of the op set (address types do not "
                    f"match any op; forms of this shape: {', '.join(forms)})")
        if len(problems) == 1 and t.slots[problems[0][0]].text:
            return (f"{quoted} is not an instruction of the op set (did you mean "
                    f"{_render(t, tokens)!r}?)")
    for tok in tokens:
        if tok.kind == _BADADDR:
            what = "negative" if "-" in tok.text else "malformed"
            return f"{what} address {tok.text!r} in {quoted}"
        if tok.kind == _BADNUM:
            return f"bad number {tok.text!r} in {quoted}"
    for tok, nxt in zip(tokens, tokens[1:], strict=False):
        if (tok.kind == _LIT and nxt.text == "(" and tok.text not in _FUNCTION_NAMES
                and re.fullmatch(r"[A-Za-z_]\w*", tok.text)):
            close = difflib.get_close_matches(tok.text, _FUNCTION_NAMES, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            return (f"unknown function {tok.text!r} in {quoted} ({hint}known: "
                    f"{', '.join(_FUNCTION_NAMES)})")
    return f"{quoted} is not an instruction of the op set"


def _parse_instruction(text: str, feature_size: int | None) -> Instruction:
    tokens = _tokenize(text)
    key = tuple(_token_key(tok) for tok in tokens)
    for template in _TEMPLATES_BY_KEY.get(key, ()):
        fields = _match(template, tokens)
        if fields is not None:
            try:
                return _instruction(template, fields, feature_size)
            except _LineError as exc:
                raise _LineError(f"{text!r}: {exc}") from None
    raise _LineError(_diagnose(text, tokens))


def _check_feature_size(feature_size: int | None) -> None:
    if feature_size is not None and (isinstance(feature_size, bool)
                                     or not isinstance(feature_size, int | np.integer)
                                     or feature_size < 1):
        raise ValueError(f"feature_size must be a positive int, got {feature_size!r}")


def parse_instruction(text: str, feature_size: int | None = None) -> Instruction:
    """Parse one instruction such as ``s3 = s0 - s1`` (a trailing ``# comment`` is ignored).

    ``feature_size`` is needed only for const-set indices written as integer
    element numbers (``v3[5] = -2.4``; see the module docstring for ``0`` and
    ``1``). Raises ``ProgramParseError``.
    """
    _check_feature_size(feature_size)
    text = text.split("#", 1)[0].strip()
    try:
        return _parse_instruction(text, feature_size)
    except _LineError as exc:
        raise ProgramParseError(str(exc)) from None


_HEADER_RE = re.compile(r"def\b\s*(?P<name>\w*)\s*(?P<args>\([^)]*\))?\s*(?P<colon>:?)(?P<rest>.*)")


def parse_algorithm(text: str, feature_size: int | None = None) -> Algorithm:
    """Parse an algorithm printed by :func:`format_algorithm`, the original or the paper.

    Comments, blank lines, ``pass`` and ``;``-separated instructions are allowed;
    components may come in any order, at most once each, and missing ones are
    empty. Raises ``ProgramParseError`` whose message starts with ``line N:``.
    """
    _check_feature_size(feature_size)
    components: dict[str, list[Instruction]] = {}
    current: list[Instruction] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            header = _HEADER_RE.fullmatch(line)
            if header:
                name = header.group("name").capitalize()
                if name not in COMPONENT_NAMES:
                    raise _LineError(f"unknown component function {line!r} (expected "
                                     f"def Setup():, def Predict(): or def Learn():)")
                if header.group("args") is None or header.group("args").replace(" ", "") \
                        != "()" or not header.group("colon"):
                    raise _LineError(f"malformed header {line!r} (expected def {name}():)")
                if name in components:
                    raise _LineError(f"duplicate def {name}()")
                current = components[name] = []
                line = header.group("rest")
            for part in line.split(";"):
                part = part.strip()
                if not part or part == "pass":
                    continue
                if current is None:
                    raise _LineError(f"instruction outside def Setup()/Predict()/Learn(): "
                                     f"{part!r}")
                current.append(_parse_instruction(part, feature_size))
        except _LineError as exc:
            raise ProgramParseError(f"line {number}: {exc}") from None
    return Algorithm(*(tuple(components.get(name, ())) for name in COMPONENT_NAMES))

