"""Scanned CVs: the text drawn onto greyscale page images (200 dpi, slight skew and speckle, as a flatbed
scanner gives) and saved as an image-only PDF — no text layer, legible enough for OCR."""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from tests.cvgen.model import CVProfile
from tests.cvgen.render_common import Block, font, outline, rng_for, with_suffix

DPI = 200
PAGE = (1654, 2339)  # A4 at 200 dpi
MARGIN = 150
BODY_PX = 30  # ≈ 11 pt at 200 dpi


def render(profile: CVProfile, path: Path | str) -> Path:
    path = with_suffix(path, ".pdf")
    rng = rng_for(profile, "scan")
    pages = _pages(outline(profile))
    scans = []
    for page in pages:
        skewed = page.rotate(rng.uniform(-0.4, 0.4), resample=Image.Resampling.BICUBIC, fillcolor=250)
        draw = ImageDraw.Draw(skewed)
        for _ in range(1500):
            draw.point((rng.randrange(PAGE[0]), rng.randrange(PAGE[1])), fill=rng.randint(150, 230))
        scans.append(skewed.filter(ImageFilter.GaussianBlur(0.5)))
    scans[0].save(path, "PDF", resolution=DPI, save_all=True, append_images=scans[1:])
    return path


def _pages(blocks: list[Block]) -> list[Image.Image]:
    pages = [_blank()]
    y = MARGIN
    for block in blocks:
        for text, size, bold, gap in _lines(block):
            face = font(size, bold=bold)
            for line in _wrap(text, face, PAGE[0] - 2 * MARGIN):
                if y + size * 1.4 > PAGE[1] - MARGIN:
                    pages.append(_blank())
                    y = MARGIN
                y += gap
                gap = 0
                ImageDraw.Draw(pages[-1]).text((MARGIN, y), line, font=face, fill=25)
                y += int(size * 1.45)
    return pages


def _lines(block: Block) -> list[tuple[str, int, bool, int]]:
    """(text, pixel size, bold, space above) for a block."""
    if block.kind == "title":
        return [(block.text, 56, True, 0)]
    if block.kind == "heading":
        return [(block.text, 36, True, 24)]
    if block.kind == "job":
        return [(block.text, BODY_PX, True, 10), (block.extra, BODY_PX, False, 0)]
    if block.kind == "edu":
        return [(f"{block.text}, {block.detail}, {block.extra}", BODY_PX, False, 0)]
    if block.kind == "bullet":
        return [(f"- {block.text}", BODY_PX, False, 0)]
    return [(block.text, BODY_PX, False, 0)]


def _wrap(text: str, face, width: int) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and face.getlength(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    return [*lines, current] if current else lines


def _blank() -> Image.Image:
    return Image.new("L", PAGE, 250)
