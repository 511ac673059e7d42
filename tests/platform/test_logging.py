import logging

import pytest

from cvengine.logging import RedactPersonalData, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sent to jane.o'neill@school.sch.uk ok", "sent to [email] ok"),
        ("call +44 7700 900123 now", "call [phone] now"),
        ("call 07700900123", "call [phone]"),
        (
            "https://s3/b/k?X-Amz-Credential=abc&X-Amz-Signature=deadbeef",
            "https://s3/b/k?X-Amz-Credential=[redacted]&X-Amz-Signature=[redacted]",
        ),
        ("GET /api/files/eyJuIjoiY2FuZCJ9:1abc:sig/ 200", "GET /api/files/[token]/ 200"),
        (
            "Not Found: /api/outreach/unsubscribe/.eJyrVkpVslLKSs3IzFeqBQAcTgSk:sig/",
            "Not Found: /api/outreach/unsubscribe/[token]/",
        ),
        ("batch 3f2c processed 120 files in 2026", "batch 3f2c processed 120 files in 2026"),
        (  # ids stay readable: digit-only UUID groups are not phone numbers
            "account c1be7c3d-c48a-4d07-afac-123456789012 and 3a13fc95-4711-4123-8123-aaebd83972d1",
            "account c1be7c3d-c48a-4d07-afac-123456789012 and 3a13fc95-4711-4123-8123-aaebd83972d1",
        ),
        (
            "task 3a13fc95-4711-4123-8123-aaebd83972d1 for 07700 900123",
            "task 3a13fc95-4711-4123-8123-aaebd83972d1 for [phone]",
        ),
    ],
)
def test_redact(text, expected):
    assert redact(text) == expected


def test_filter_rewrites_records_with_args():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "mail to %s failed", ("a@b.org",), None)
    assert RedactPersonalData().filter(record)
    assert record.getMessage() == "mail to [email] failed"
