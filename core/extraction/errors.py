"""The one exception type of document ingestion: a machine code plus a message fit for an operator.

Codes (pipeline.md §2, api.md §3 C2): ``empty_file``, ``too_large``, ``unsupported_type``, ``corrupt_file``,
``encrypted``, ``no_text_layer``. ``detail`` carries technical context for debug logs only (never CV text).
"""

EMPTY_FILE = "empty_file"
TOO_LARGE = "too_large"
UNSUPPORTED_TYPE = "unsupported_type"
CORRUPT_FILE = "corrupt_file"
ENCRYPTED = "encrypted"
NO_TEXT_LAYER = "no_text_layer"


class ExtractionError(Exception):
    """A document that cannot be ingested: ``code`` is stable, ``message`` names the problem."""

    def __init__(self, code: str, message: str, detail: str = "") -> None:
        super().__init__(code, message, detail)
        self.code = code
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def describe(exc: BaseException) -> str:
    """A short technical description of an unexpected library exception, for ``detail``."""
    return f"{type(exc).__name__}: {exc}"[:200]
