"""RTF CVs as Word writes them: font and colour tables, bold headings, list bullets in ``\\pntext`` groups,
contact details in the page header, non-ASCII text as ``\\uN?`` escapes."""

from pathlib import Path

from tests.cvgen.model import CVProfile
from tests.cvgen.render_common import contact_line, outline, rng_for, with_suffix


def render(profile: CVProfile, path: Path | str) -> Path:
    path = with_suffix(path, ".rtf")
    header_contacts = rng_for(profile, "rtf").random() < 0.5
    parts = [
        r"{\rtf1\ansi\ansicpg1252\deff0",
        r"{\fonttbl{\f0\fswiss Calibri;}{\f1\fnil\fcharset2 Symbol;}}",
        r"{\colortbl;\red31\green56\blue100;}",
        r"{\*\generator Microsoft Word 16;}",
        r"\paperw11906\paperh16838\margl1134\margr1134",
    ]
    if header_contacts:
        parts.append(r"{\header\pard\qr\fs18 " + _escape(contact_line(profile)) + r"\par}")
    for block in outline(profile, contact=not header_contacts):
        parts.append(_paragraph(block.kind, block.text, block.extra, block.detail))
    parts.append("}")
    path.write_text("\n".join(parts), encoding="ascii")
    return path


def _paragraph(kind: str, text: str, extra: str, detail: str) -> str:
    text = _escape(text)
    if kind == "title":
        return r"{\pard\b\fs40 " + text + r"\b0\par}"
    if kind == "heading":
        return r"{\pard\sb240\b\cf1\fs26 " + text + r"\b0\cf0\par}"
    if kind == "job":
        return r"{\pard\sb120\b " + text + r"\b0\tab " + _escape(extra) + r"\par}"
    if kind == "edu":
        return r"{\pard " + text + ", " + _escape(detail) + r"\tab " + _escape(extra) + r"\par}"
    if kind == "bullet":
        return r"{\pard\fi-360\li720{\pntext\f1\'b7\tab}" + text + r"\par}"
    return r"{\pard\fs22 " + text + r"\par}"


def _escape(text: str) -> str:
    out = []
    for char in text:
        if char in "\\{}":
            out.append("\\" + char)
        elif ord(char) < 128:
            out.append(char)
        else:
            code = ord(char)
            out.append(f"\\u{code if code < 32768 else code - 65536}?")
    return "".join(out)
