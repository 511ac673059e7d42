"""Enhanced-CV PDF rendering (pipeline.md §8): pure Python over WeasyPrint, configured only by arguments."""

from core.rendering.branding import Branding
from core.rendering.context import build_context, canonical_context, context_hash
from core.rendering.errors import RenderError
from core.rendering.pdf import render_pdf
from core.rendering.template import TEMPLATE_VERSION

__all__ = [
    "TEMPLATE_VERSION",
    "Branding",
    "RenderError",
    "build_context",
    "canonical_context",
    "context_hash",
    "render_pdf",
]
