"""Gunicorn's access log without personal data (``--logger-class cvengine.accesslog.PrivacyLogger``).

The access log is written by gunicorn, outside Django's logging (and its ``RedactPersonalData`` filter). Its
request line carries query strings (``?search=<name>``, ``?email=<address>``, ``?contact_email=...``) and paths
with tokens (``/api/files/<signed token>/``, ``/api/outreach/unsubscribe/<token encoding an address>/``). Every
atom is therefore cleaned, whatever ``--access-logformat`` says: the request line and referer lose their query
strings, tokens, e-mail addresses and phone numbers are masked, and credentials (cookies, Authorization) and the
raw URI never appear.
"""

from gunicorn.glogging import Logger

from .logging import redact

# Atoms of request headers ({name}i), response headers ({name}o) and environ ({name}e) that carry credentials or
# the unparsed URI: always "-".
_HIDDEN = frozenset(
    {
        "{cookie}i",
        "{authorization}i",
        "{referer}i",
        "{set-cookie}o",
        "{location}o",
        "{http_cookie}e",
        "{http_authorization}e",
        "{http_referer}e",
        "{query_string}e",
        "{raw_uri}e",
        "{request_uri}e",
    }
)


def _without_query(url: str) -> str:
    return redact(url.split("?", 1)[0].split("#", 1)[0])


class PrivacyLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = _without_query(environ.get("PATH_INFO") or "")
        atoms.update(
            r=f"{environ.get('REQUEST_METHOD', '-')} {path} {environ.get('SERVER_PROTOCOL', '-')}",
            U=path,
            q="-",
            f=_without_query(atoms.get("f") or "-"),
        )
        for key, value in atoms.items():
            if key in _HIDDEN:
                atoms[key] = "-"
            elif isinstance(value, str) and key not in ("r", "U", "q", "f"):
                atoms[key] = redact(value)
        return atoms
