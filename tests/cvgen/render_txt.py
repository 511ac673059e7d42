"""Plain-text CVs: capitalised or underlined headings, ``-``/``*``/``•`` bullets, UTF-8 or Windows-1252."""

from pathlib import Path

from tests.cvgen.model import CVProfile
from tests.cvgen.render_common import Block, outline, rng_for, with_suffix


def render(profile: CVProfile, path: Path | str) -> Path:
    path = with_suffix(path, ".txt")
    rng = rng_for(profile, "txt")
    bullet = rng.choice(["- ", "* ", "• "])
    same_line_dates = rng.random() < 0.5
    underline = rng.random() < 0.5
    lines: list[str] = []
    for block in outline(profile):
        lines.extend(_block(block, bullet, same_line_dates, underline))
    text = "\n".join(lines).strip() + "\n"
    encoding = "utf-8"
    if rng.random() < 0.25:
        try:
            text.encode("cp1252")
            encoding = "cp1252"
        except UnicodeEncodeError:
            pass
    path.write_bytes(text.encode(encoding))
    return path


def _block(block: Block, bullet: str, same_line_dates: bool, underline: bool) -> list[str]:
    if block.kind == "heading":
        return ["", block.text, "=" * len(block.text)] if underline else ["", block.text.upper()]
    if block.kind == "job":
        return [f"{block.text} | {block.extra}"] if same_line_dates else [block.text, block.extra]
    if block.kind == "edu":
        return [f"{block.text}, {block.detail}, {block.extra}"]
    if block.kind == "bullet":
        return [bullet + block.text]
    return [block.text]
