"""Render a canonical context to PDF bytes with WeasyPrint, in the agency's branding."""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from weasyprint import CSS, HTML, Document
from weasyprint.text.fonts import FontConfiguration

from core.rendering.branding import Branding
from core.rendering.context import canonical_context
from core.rendering.errors import RenderError
from core.rendering.fetcher import AllowListFetcher
from core.rendering.template import render_html

logger = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
STYLESHEET = ASSETS_DIR / "cv.css"
# Bundled files the fetcher may serve, listed exactly (the logo is added per branding).
ASSET_FILES = frozenset({STYLESHEET})

# WeasyPrint and Pango share font state that is not documented as thread-safe: one render at a time.
_render_lock = threading.Lock()


def render_pdf(context: dict[str, Any], branding: Branding) -> bytes:
    """Render the enhanced CV for ``context`` (validated through ``canonical_context``) as A4 PDF bytes.

    Raises ``RenderError``: ``invalid_context`` / ``context_too_large`` for a bad context,
    ``invalid_branding`` for a bad branding object, ``render_failed`` when WeasyPrint fails.
    """
    html, fetcher = _prepare(context, branding)
    with _rendering():
        return _layout(html, fetcher, branding).write_pdf()


def layout_document(context: dict[str, Any], branding: Branding) -> Document:
    """The laid-out pages without writing the PDF, for callers that inspect pagination."""
    html, fetcher = _prepare(context, branding)
    with _rendering():
        return _layout(html, fetcher, branding)


def _prepare(context: dict[str, Any], branding: Branding) -> tuple[str, AllowListFetcher]:
    if not isinstance(branding, Branding):
        raise RenderError("invalid_branding", f"Expected a Branding, got {type(branding).__name__}.")
    return render_html(canonical_context(context), branding), _fetcher(branding.logo_file)


def _layout(html: str, fetcher: AllowListFetcher, branding: Branding) -> Document:
    return HTML(string=html, url_fetcher=fetcher).render(
        stylesheets=[_base_stylesheet(), _accent_stylesheet(branding.accent_colour)],
        font_config=_font_config(),
    )


@contextmanager
def _rendering() -> Iterator[None]:
    """One render at a time; any WeasyPrint failure becomes a ``RenderError``."""
    try:
        with _render_lock:
            yield
    except Exception as exc:
        # The exception text may quote CV content: log and report its type only.
        logger.warning("Enhanced CV rendering failed: %s", type(exc).__name__)
        raise RenderError("render_failed", f"The PDF renderer failed ({type(exc).__name__}).") from exc


@cache
def _font_config() -> FontConfiguration:
    """One font configuration per process: building it rescans every installed font (see bench_rendering)."""
    return FontConfiguration()


@cache
def _fetcher(logo_file: Path | None) -> AllowListFetcher:
    """The allow-list for one logo, built once: a URLFetcher's set-up loads the CA store (~35 ms) each time."""
    return AllowListFetcher(ASSET_FILES | ({logo_file} if logo_file else set()))


@cache
def _base_stylesheet() -> CSS:
    """The parsed stylesheet, parsed once per process."""
    return CSS(url=STYLESHEET.as_uri(), url_fetcher=_fetcher(None), font_config=_font_config())


@cache
def _accent_stylesheet(accent_colour: str) -> CSS:
    """Custom properties for a validated ``#RRGGBB`` accent, and a light tint of it for hairlines."""
    tint = _mix_with_white(accent_colour, 0.35)
    return CSS(
        string=f":root {{ --accent: {accent_colour}; --accent-tint: {tint}; }}", font_config=_font_config()
    )


def _mix_with_white(colour: str, share: float) -> str:
    channels = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(c * share + 255 * (1 - share)):02x}" for c in channels)
