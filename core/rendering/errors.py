"""The one exception type of the rendering core: a machine code for callers, a human message for operators."""


class RenderError(Exception):
    """Raised for bad branding, a malformed context or a failed render.

    ``code`` is stable and machine-readable (``invalid_branding``, ``invalid_context``, ``context_too_large``,
    ``render_failed``); ``message`` says what to fix and never quotes CV text.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
