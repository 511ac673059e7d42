"""Every CV layout the renderers produce: ``LAYOUTS[name](profile, path) -> Path`` (the extension is added).

Names are stable: the accuracy harness (make eval), the tests and the benchmarks select layouts by name.
"""

from collections.abc import Callable
from pathlib import Path

from tests.cvgen import render_docx, render_odt, render_pdf, render_rtf, render_scan, render_txt
from tests.cvgen.model import CVProfile

Renderer = Callable[[CVProfile, Path | str], Path]

LAYOUTS: dict[str, Renderer] = {
    **render_pdf.LAYOUTS,
    **render_docx.LAYOUTS,
    "odt": render_odt.render,
    "rtf": render_rtf.render,
    "txt": render_txt.render,
    "scan": render_scan.render,
}


def render(profile: CVProfile, path: Path | str, layout: str | None = None) -> Path:
    """Render ``profile`` in ``layout`` (default: the profile's own ``layout``)."""
    return LAYOUTS[layout or profile.layout](profile, path)
