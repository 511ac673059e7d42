"""Regenerate docs/sample-enhanced-cv.png (page 1 at 100 dpi): ``python -m tests.core.rendering.make_sample``."""

import subprocess
import tempfile
from pathlib import Path

from PIL import Image

from core.rendering import build_context, render_pdf
from tests.core.rendering.samples import make_branding, make_cv

OUTPUT = Path(__file__).resolve().parents[3] / "docs" / "sample-enhanced-cv.png"


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        pdf = work / "sample.pdf"
        pdf.write_bytes(render_pdf(build_context(make_cv(0)), make_branding(work)))
        subprocess.run(
            ["pdftoppm", "-png", "-r", "100", "-f", "1", "-l", "1", "-singlefile", pdf, work / "page"],
            check=True,
        )
        # A 64-colour palette keeps text crisp at a fraction of the size.
        page = (
            Image.open(work / "page.png").convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
        )
        page.save(OUTPUT, optimize=True)
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
