"""A log filter that masks e-mail addresses, phone numbers, signed URLs and unsubscribe tokens in every record.

Code should not log personal data in the first place; this is the safety net for messages built by libraries
(for example an SMTP error that quotes a recipient) so that nothing personal reaches the logs at info level.
"""

import logging
import re

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w/])\+?\d[\d ()-]{7,}\d(?![\w/])")
_SIGNED_QUERY = re.compile(r"([?&](?:X-Amz-Signature|X-Amz-Credential|Signature|signature|token)=)[^&\s\"']+")
_FILE_TOKEN = re.compile(r"(/api/files/)[^/\s\"']+")
_UNSUBSCRIBE_TOKEN = re.compile(r"(/unsubscribe/)[^/\s\"']+")  # a signed, readable encoding of an address
_UUID = re.compile(r"\b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b")


def _redact_phones(text: str) -> str:
    """Phone numbers outside UUIDs: an id whose groups happen to be digits is not a phone number."""
    kept, last = [], 0
    for match in _UUID.finditer(text):
        kept += [_PHONE.sub("[phone]", text[last : match.start()]), match.group(0)]
        last = match.end()
    return "".join([*kept, _PHONE.sub("[phone]", text[last:])])


def redact(text: str) -> str:
    text = _EMAIL.sub("[email]", text)
    text = _SIGNED_QUERY.sub(r"\1[redacted]", text)
    text = _FILE_TOKEN.sub(r"\1[token]", text)
    text = _UNSUBSCRIBE_TOKEN.sub(r"\1[token]", text)
    return _redact_phones(text)


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
