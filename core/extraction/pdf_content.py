"""Glyph runs with positions from PDF page content, on top of pdfminer.six.

pdfminer supplies the document model: cross references, decryption, fonts, CMaps and the text/graphics state
operators. Two of its pieces are replaced because they dominate the cost of a CV page:

* :class:`RunInterpreter` tokenises content streams with one regular expression instead of pdfminer's
  byte-at-a-time PostScript lexer (about 4x faster) and checks the document's :class:`Budget` every few hundred
  operators, so a page of millions of operators stops on time instead of looping on.
* :class:`RunCollector` turns each text-showing operator into :class:`Run` records directly instead of building
  an ``LTChar`` object per glyph. Only upright, horizontal text is kept (rotated stamps and vertical CJK text
  are advanced over, not read).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from pdfminer.pdfdevice import PDFTextDevice
from pdfminer.pdffont import PDFFont
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdftypes import stream_value
from pdfminer.psparser import KWD, LIT
from pdfminer.utils import mult_matrix

from core.extraction.limits import Budget

WORD_GAP = 0.2  # a gap wider than this many font sizes between glyphs is a space
FRAGMENT_GAP = 0.8  # ... and wider than this starts a new fragment (a tab stop, a column gutter)


@dataclass(slots=True)
class Run:
    """Glyphs drawn on one baseline without a large gap: page coordinates in points, y grows upwards."""

    x0: float
    x1: float
    baseline: float
    size: float
    text: str


class RunCollector(PDFTextDevice):
    """A pdfminer device that records text as :class:`Run` records for one page at a time."""

    def __init__(self, rsrcmgr: PDFResourceManager, budget: Budget) -> None:
        super().__init__(rsrcmgr)
        self.budget = budget
        self.runs: list[Run] = []
        self.unmapped_glyphs = 0
        self.skipped_strings = 0
        self._glyphs: dict[int, dict[int, tuple[str, float]]] = {}

    def take_runs(self) -> list[Run]:
        runs, self.runs = self.runs, []
        return runs

    def render_string(self, textstate, seq, ncs, graphicstate) -> None:
        font: PDFFont | None = textstate.font
        if font is None:
            return
        a, b, c, d, e, f = mult_matrix(textstate.matrix, self.ctm)
        fontsize = textstate.fontsize
        size = d * fontsize
        if (
            font.is_vertical()
            or abs(b) > 1e-3 * abs(a)
            or abs(c) > 1e-3 * abs(d)
            or a * fontsize <= 0
            or size <= 0
        ):
            self.skipped_strings += 1
            super().render_string(textstate, seq, ncs, graphicstate)  # advances the text position only
            return
        scaling = textstate.scaling * 0.01
        charspace = textstate.charspace * scaling
        wordspace = 0 if font.is_multibyte() else textstate.wordspace * scaling
        dxscale = 0.001 * fontsize * scaling
        glyphs = self._glyph_table(font)
        x, y = textstate.linematrix
        baseline = d * (y + textstate.rise) + f
        word_gap, fragment_gap = WORD_GAP * size, FRAGMENT_GAP * size
        run: Run | None = None
        parts: list[str] = []
        space_pending = False
        need_charspace = False
        count = 0
        for item in seq:
            if isinstance(item, int | float):
                x -= item * dxscale
                need_charspace = True
                continue
            if not isinstance(item, bytes):
                continue
            for cid in font.decode(item):
                if need_charspace:
                    x += charspace
                glyph = glyphs.get(cid)
                if glyph is None:
                    glyph = glyphs[cid] = self._glyph(font, cid)
                text, width = glyph
                advance = width * fontsize * scaling
                if not text or text.isspace():
                    space_pending = space_pending or bool(text)
                else:
                    x0, x1 = a * x + e, a * (x + advance) + e
                    gap = x0 - run.x1 if run else 0.0
                    if run is None or gap > fragment_gap or gap < -fragment_gap:
                        if run:
                            run.text = "".join(parts)
                            self.runs.append(run)
                        run, parts = Run(x0, x1, baseline, size, ""), [text]
                    else:
                        if space_pending or gap > word_gap:
                            parts.append(" ")
                        parts.append(text)
                        run.x1 = max(run.x1, x1)
                    space_pending = False
                    count += 1
                x += advance
                if cid == 32 and wordspace:
                    x += wordspace
                need_charspace = True
        if run:
            run.text = "".join(parts)
            self.runs.append(run)
        textstate.linematrix = (x, y)
        self.budget.spend_chars(count)

    def render_char(self, matrix, font, fontsize, scaling, rise, cid, ncs, graphicstate) -> float:
        """Advance for text that is not read (rotated or vertical): keeps later positions right."""
        return font.char_width(cid) * fontsize * scaling

    def _glyph_table(self, font: PDFFont) -> dict[int, tuple[str, float]]:
        table = self._glyphs.get(id(font))
        if table is None:
            table = self._glyphs[id(font)] = {}
        return table

    def _glyph(self, font: PDFFont, cid: int) -> tuple[str, float]:
        try:
            text = font.to_unichr(cid)
        except Exception:  # PDFUnicodeNotDefined and friends: the glyph has no known character
            self.unmapped_glyphs += 1
            text = ""
        try:
            width = float(font.char_width(cid))
        except Exception:
            width = 0.0
        return text, width


# --- content streams -----------------------------------------------------------------------------------------

_WS = b"\x00\t\n\x0c\r "
_DELIMS = rb"()<>\[\]{}/%"
_TOKEN = re.compile(
    rb"[" + _WS + rb"]+|%[^\r\n]*"
    rb"|(?P<num>[+-]?(?:\d+\.?\d*|\.\d+))(?![^" + _WS + _DELIMS + rb"])"
    rb"|/(?P<name>[^" + _WS + _DELIMS + rb"]*)"
    rb"|(?P<dict><<)|(?P<enddict>>>)"
    rb"|<(?P<hex>[0-9A-Fa-f" + _WS + rb"]*)>"
    rb"|(?P<array>\[)|(?P<endarray>\])"
    rb"|(?P<string>\()"
    rb"|(?P<kw>[^" + _WS + _DELIMS + rb"]+)"
    rb"|(?P<junk>.)",
    re.DOTALL,
)
_STRING_STOP = re.compile(rb"[()\\]")
_STRING_ESCAPE = re.compile(rb"\\(?:([0-7]{1,3})|(\r\n|\r|\n)|(.))", re.DOTALL)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
_INLINE_IMAGE_END = re.compile(rb"[" + _WS + rb"]EI(?![^" + _WS + _DELIMS + rb"])")
_SPACES = re.compile(rb"[" + _WS + rb"]")
_NUMBER = rb"[+-]?(?:\d+\.?\d*|\.\d+)"
# A TJ array of only hex strings and numbers, the common case, is parsed in one step.
_PLAIN_ARRAY = re.compile(
    rb"(?:[" + _WS + rb"]*(?:<[0-9A-Fa-f" + _WS + rb"]*>|" + _NUMBER + rb"))*[" + _WS + rb"]*\]"
)
_ARRAY_ITEM = re.compile(rb"<([0-9A-Fa-f" + _WS + rb"]*)>|(" + _NUMBER + rb")")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
CHECK_EVERY = 256  # operators between budget checks


def _unescape(match: re.Match) -> bytes:
    octal, newline, char = match.groups()
    if octal:
        return bytes((int(octal, 8) & 0xFF,))
    if newline:
        return b""
    return _ESCAPES.get(char, char)


def _literal_string(data: bytes, start: int) -> tuple[bytes, int]:
    """The bytes of a ``( ... )`` string starting after its ``(``, and the position after its ``)``."""
    depth, pos = 1, start
    while True:
        match = _STRING_STOP.search(data, pos)
        if match is None:
            end = len(data)
            break
        char = data[match.start()]
        if char == 0x5C:  # backslash: skip the escaped byte
            pos = match.start() + 2
            continue
        depth += 1 if char == 0x28 else -1
        pos = match.end()
        if depth == 0:
            end = match.start()
            break
    raw = data[start:end]
    return (_STRING_ESCAPE.sub(_unescape, raw) if b"\\" in raw else raw), min(pos, len(data))


def _name(raw: bytes):
    if b"#" in raw:
        raw = _NAME_ESCAPE.sub(lambda m: bytes((int(m.group(1), 16),)), raw)
    try:
        return LIT(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return LIT(raw)  # type: ignore[arg-type]  (pdfminer keeps undecodable names as bytes too)


_OPERATORS: dict[bytes, tuple[Callable, int] | None] = {}


def _operator(keyword: bytes) -> tuple[Callable, int] | None:
    """The interpreter method for an operator keyword and its operand count (pdfminer's naming scheme)."""
    if keyword not in _OPERATORS:
        name = "do_" + keyword.decode("latin-1").replace("*", "_a").replace('"', "_w").replace("'", "_q")
        func = getattr(RunInterpreter, name, None)
        _OPERATORS[keyword] = (func, func.__code__.co_argcount - 1) if callable(func) else None
    return _OPERATORS[keyword]


class RunInterpreter(PDFPageInterpreter):
    """pdfminer's page interpreter with a fast, budgeted content-stream loop (see module docstring)."""

    def dup(self) -> "RunInterpreter":
        return self.__class__(self.rsrcmgr, self.device)

    def do_TJ(self, seq) -> None:
        if self.textstate.font is not None:
            self.device.render_string(self.textstate, seq, None, None)  # the device ignores colour and state

    def execute(self, streams) -> None:
        self.stream_ids.clear()
        chunks = []
        for obj in streams:
            stream = stream_value(obj)
            if stream.objid is None or stream.objid in self.parent_stream_ids:
                continue  # inline or circular (a form drawing itself): never executed
            self.stream_ids.add(stream.objid)
            chunks.append(stream.get_data())
        self._run(b"\n".join(chunks))

    def _run(self, data: bytes) -> None:
        budget: Budget = self.device.budget
        stack: list = []
        nesting: list[tuple[bool, int]] = []  # (is_dict, stack height) of open arrays and dicts
        inline_image_mark = -1
        match_token = _TOKEN.match
        operators = 0
        pos, end = 0, len(data)
        while pos < end:
            match = match_token(data, pos)
            pos = match.end()
            kind = match.lastgroup
            if kind is None or kind == "junk":
                continue
            value = match.group(kind)
            if kind == "num":
                stack.append(_number(value))
            elif kind == "name":
                stack.append(_name(value))
            elif kind == "string":
                text, pos = _literal_string(data, pos)
                stack.append(text)
            elif kind == "hex":
                stack.append(_hex(value))
            elif kind == "array" and (plain := _PLAIN_ARRAY.match(data, pos)):
                stack.append(_plain_array(data, pos, plain.end()))
                pos = plain.end()
            elif kind in ("array", "dict"):
                nesting.append((kind == "dict", len(stack)))
            elif kind in ("endarray", "enddict"):
                if not nesting:
                    continue
                is_dict, height = nesting.pop()
                items = stack[height:]
                del stack[height:]
                if is_dict:
                    pairs = zip(items[::2], items[1::2], strict=False)
                    stack.append({getattr(k, "name", k): v for k, v in pairs if v is not None})
                else:
                    stack.append(items)
            elif nesting:  # a keyword inside an array or dict is an operand (true, false, null)
                stack.append(_keyword_value(value))
            elif value == b"BI":
                inline_image_mark = len(stack)
            elif value == b"ID":
                # Inline image data is binary: skip to its EI, nothing in it is text.
                del stack[max(inline_image_mark, 0) :]
                found = _INLINE_IMAGE_END.search(data, pos + 1)
                pos = found.end() if found else end
            elif value in (b"true", b"false", b"null"):
                stack.append(_keyword_value(value))
            else:
                operators += 1
                if operators % CHECK_EVERY == 0:
                    budget.check()
                op = _operator(value)
                if op is None:
                    stack.clear()
                    continue
                func, nargs = op
                if nargs:
                    if len(stack) >= nargs:
                        args = stack[-nargs:]
                        stack.clear()
                        func(self, *args)
                    else:
                        stack.clear()
                else:
                    stack.clear()
                    func(self)


def _hex(digits: bytes) -> bytes:
    digits = _SPACES.sub(b"", digits)
    return bytes.fromhex((digits + b"0" if len(digits) % 2 else digits).decode())


def _number(text: bytes) -> int | float:
    return float(text) if b"." in text else int(text)


_ZERO = re.compile(rb"[+-]?0*\.?0*")


def _plain_array(data: bytes, start: int, end: int) -> list[bytes | int | float]:
    """Items of a hex-and-number array; strings separated only by zero offsets are joined (same rendering)."""
    items: list[bytes | int | float] = []
    digits: list[bytes] = []
    for hexdigits, number in _ARRAY_ITEM.findall(data, start, end):
        if not number:
            hexdigits = hexdigits.translate(None, _WS)
            digits.append(hexdigits + b"0" if len(hexdigits) % 2 else hexdigits)
            continue
        if digits and _ZERO.fullmatch(number):
            continue
        if digits:
            items.append(bytes.fromhex(b"".join(digits).decode()))
            digits = []
        items.append(_number(number))
    if digits:
        items.append(bytes.fromhex(b"".join(digits).decode()))
    return items


def _keyword_value(value: bytes):
    return {b"true": True, b"false": False, b"null": None}.get(value, KWD(value))
