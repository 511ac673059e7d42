"""Agency branding for the enhanced CV: everything agency-specific comes from here, nothing is hard-coded."""

import re
from dataclasses import dataclass
from pathlib import Path

from core.rendering.errors import RenderError

_HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
# Formats WeasyPrint decodes for <img>; anything else would silently render as a broken image.
LOGO_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"})


@dataclass(frozen=True)
class Branding:
    """How the agency presents itself on every page.

    ``accent_colour`` must be ``#RRGGBB``; ``logo_path`` (optional) must name an existing image file.
    Validation happens at construction, so a misconfigured deployment fails at start-up, not on a render.
    """

    agency_name: str
    logo_path: str | None = None
    accent_colour: str = "#1F4E79"
    contact_line: str = ""
    footer_text: str = ""

    def __post_init__(self) -> None:
        for name in ("agency_name", "contact_line", "footer_text", "accent_colour"):
            if not isinstance(getattr(self, name), str):
                raise RenderError("invalid_branding", f"Branding {name} must be a string.")
        if not self.agency_name.strip():
            raise RenderError("invalid_branding", "Branding agency_name must not be empty.")
        if not _HEX_COLOUR.fullmatch(self.accent_colour):
            raise RenderError(
                "invalid_branding", f"Branding accent_colour must be #RRGGBB, got {self.accent_colour!r}."
            )
        if self.logo_path is not None:
            self._check_logo(self.logo_path)

    @staticmethod
    def _check_logo(logo_path: object) -> None:
        if not isinstance(logo_path, str) or not logo_path.strip():
            raise RenderError("invalid_branding", "Branding logo_path must be a non-empty string or None.")
        path = Path(logo_path)
        if path.suffix.lower() not in LOGO_SUFFIXES:
            allowed = ", ".join(sorted(LOGO_SUFFIXES))
            raise RenderError("invalid_branding", f"Logo {logo_path!r} must be one of: {allowed}.")
        if not path.is_file():
            raise RenderError("invalid_branding", f"Logo file {logo_path!r} does not exist.")

    @property
    def logo_file(self) -> Path | None:
        """The logo's resolved absolute path (symlinks followed), the only form the URL fetcher accepts."""
        return Path(self.logo_path).resolve() if self.logo_path else None
