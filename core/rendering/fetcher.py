"""A WeasyPrint URL fetcher that serves an exact allow-list of local files and refuses everything else.

CV text is escaped, so no CV-supplied URL should ever reach here; this is the second wall. Nothing goes to the
network, no other file is read, and ``data:`` URIs are refused too (the template never needs them).
"""

import logging
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

_MIME_TYPES = {
    ".css": "text/css",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
}


class RefusedURL(ValueError):
    """A resource outside the allow-list was requested (WeasyPrint logs it and renders without it)."""


class AllowListFetcher(URLFetcher):
    """Serves ``file://`` URLs whose resolved path is exactly one of ``allowed``; refuses any other URL."""

    def __init__(self, allowed: Iterable[Path]) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False)
        self.allowed = frozenset(Path(path).resolve() for path in allowed)

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        path = self._allowed_path(url)
        if path is None:
            # The URL may come from a hostile CV: log only its scheme.
            logger.warning(
                "Refused to fetch a %r resource while rendering a CV", urlsplit(url).scheme or "relative"
            )
            raise RefusedURL("resource is not on the renderer's allow-list")
        mime_type = _MIME_TYPES.get(path.suffix.lower(), "application/octet-stream")
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime_type})

    def _allowed_path(self, url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost") or parts.query:
            return None
        path = Path(url2pathname(parts.path)).resolve()
        return path if path in self.allowed else None
