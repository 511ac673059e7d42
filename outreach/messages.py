"""Building the e-mails: availability e-mail to a candidate, outreach e-mails to school contacts.

Every part is rendered from templates (``outreach/templates/outreach/``): the plain-text part verbatim, the HTML part
with Django's autoescaping (operator text becomes escaped HTML paragraphs with line breaks, S6). Header values are
single-line (CR, LF and other control characters are replaced) so no input can inject a header.
"""

import email.policy
import re
from dataclasses import dataclass, field
from email.utils import make_msgid, parseaddr

from anymail.message import AnymailMessage
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.html import escape

from .transport import is_anymail
from .unsubscribe import list_unsubscribe_headers, unsubscribe_url

FALLBACK_GIVEN_NAME = "Candidate"
SUBJECT_MAX = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_FILENAME_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')

# Batch sends: one provider call for many recipients; these markers are replaced per recipient by the ESP
# (SendGrid substitutions) with values from ``merge_data``. They contain no character that HTML escaping changes.
MERGE_GREETING_TEXT = "%cve_greeting_text%"
MERGE_GREETING_HTML = "%cve_greeting_html%"
MERGE_UNSUBSCRIBE_URL = "%cve_unsubscribe_url%"


def single_line(text: str | None, limit: int | None = None) -> str:
    """Header-safe text: control characters (CR/LF included) become spaces, runs of spaces collapse."""
    text = re.sub(r"\s+", " ", _CONTROL.sub(" ", text or "")).strip()
    return text[:limit].rstrip() if limit else text


def clean_subject(subject: str | None) -> str:
    return single_line(subject, SUBJECT_MAX)


def given_name(candidate) -> str:
    """``name_without_surname``, else the first token of ``name``, else "Candidate" (pipeline.md §8)."""
    given = single_line(candidate.name_without_surname)
    if not given:
        tokens = single_line(candidate.name).split(" ")
        given = tokens[0] if tokens else ""
    return given or FALLBACK_GIVEN_NAME


def cv_attachment_name(candidate) -> str:
    """``"<Given name> - CV.pdf"`` with anything a file name must not contain removed."""
    name = _FILENAME_UNSAFE.sub("", given_name(candidate)).strip(" .") or FALLBACK_GIVEN_NAME
    return f"{name[:60]} - CV.pdf"


def photo_attachment_name(candidate) -> str:
    return cv_attachment_name(candidate).replace(" - CV.pdf", " - photo.jpg")


def greeting(contact_person: str | None, job_title: str | None = None, is_role_mailbox: bool = False) -> str:
    """ "Dear <contact_person>," — or "Dear Sir/Madam," for role mailboxes (person equals job title) and no name."""
    person = single_line(contact_person, 120)
    title = single_line(job_title)
    if not person or is_role_mailbox or (title and person.casefold() == title.casefold()):
        return "Dear Sir/Madam,"
    return f"Dear {person},"


def signature() -> str:
    """EMAIL_SIGNATURE (the templates add AGENCY_NAME and AGENCY_CONTACT_LINE below it)."""
    return (settings.EMAIL_SIGNATURE or "").strip() or "Kind regards,"


def _tidy_text(text: str) -> str:
    text = re.sub(r"[ \t]+\n", "\n", text.replace("\r\n", "\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _branding() -> dict:
    return {
        "agency_name": settings.AGENCY_NAME,
        "contact_line": settings.AGENCY_CONTACT_LINE,
        "signature": signature(),
        "legal_footer": (settings.EMAIL_LEGAL_FOOTER or "").strip(),
    }


def _render(template: str, context: dict) -> tuple[str, str]:
    text = _tidy_text(render_to_string(f"outreach/{template}.txt", context))
    html = render_to_string(f"outreach/{template}.html", context)
    return text, html


class _UnfoldedHeaders:
    """Serialise with RFC 5322's 998-character line limit instead of 78: a long List-Unsubscribe URL then stays
    one plain line; at 78 Python's e-mail package turns it into RFC 2047 encoded words, which one-click
    unsubscribe (RFC 8058) clients do not decode."""

    def message(self, *, policy=email.policy.default):
        return super().message(policy=policy.clone(max_line_length=998))


class PlainEmail(_UnfoldedHeaders, EmailMultiAlternatives):
    pass


class ESPEmail(_UnfoldedHeaders, AnymailMessage):
    pass


def _sender_domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "cvengine.local"


def _new_message(connection, subject: str, text: str, html: str, to: list[str], headers: dict):
    if is_anymail(connection):
        message_class = ESPEmail
    else:
        message_class = PlainEmail
        # A Message-ID we know is the provider id for SMTP/outbox (anymail reports the ESP's own id).
        headers = {**headers, "Message-ID": make_msgid(domain=_sender_domain())}
    message = message_class(
        subject=clean_subject(subject),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        reply_to=list(settings.EMAIL_REPLY_TO),
        headers=headers,
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    return message


# --- outreach to school contacts --------------------------------------------------------------------------------


@dataclass
class Attachment:
    filename: str
    content: bytes
    mimetype: str


@dataclass
class OutreachContent:
    """What one send shares across recipients: subject, operator body, attachments."""

    candidate_id: str
    subject: str
    body: str
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class Recipient:
    """One contact of one send (an OutreachMessage row)."""

    outreach_id: str
    email: str
    greeting: str


def render_outreach(content: OutreachContent, greeting_text: str, greeting_html: str, unsubscribe: str):
    """(text, html) of an outreach e-mail; the greeting is given pre-escaped for HTML (batch markers pass through)."""
    context = {
        **_branding(),
        "subject": clean_subject(content.subject),
        "greeting": greeting_text,
        "greeting_html": greeting_html,
        "body": (content.body or "").replace("\r\n", "\n").strip(),
        "closing": (settings.OUTREACH_CLOSING_TEXT or "").strip(),
        "unsubscribe_url": unsubscribe,
    }
    return _render("outreach_email", context)


def _attach_all(message, content: OutreachContent) -> None:
    for attachment in content.attachments:
        message.attach(attachment.filename, attachment.content, attachment.mimetype)


def outreach_message(content: OutreachContent, recipient: Recipient, connection):
    """A complete e-mail for one contact (SMTP, outbox, or an ESP without batch support)."""
    url = unsubscribe_url(recipient.email)
    text, html = render_outreach(content, recipient.greeting, escape(recipient.greeting), url)
    headers = {
        **list_unsubscribe_headers(recipient.email),
        "X-Outreach-Id": recipient.outreach_id,
        "X-Candidate-Id": content.candidate_id,
    }
    message = _new_message(connection, content.subject, text, html, [recipient.email], headers)
    if is_anymail(connection):
        message.metadata = {"outreach_id": recipient.outreach_id, "candidate_id": content.candidate_id}
    _attach_all(message, content)
    return message


def outreach_batch_message(content: OutreachContent, recipients: list[Recipient], connection):
    """One anymail batch send: a separate message per ``to`` address, personalised with ``merge_data`` (greeting,
    unsubscribe link), ``merge_headers`` (List-Unsubscribe) and ``merge_metadata`` (outreach_id, candidate_id)."""
    text, html = render_outreach(content, MERGE_GREETING_TEXT, MERGE_GREETING_HTML, MERGE_UNSUBSCRIBE_URL)
    message = ESPEmail(
        subject=clean_subject(content.subject),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[r.email for r in recipients],
        reply_to=list(settings.EMAIL_REPLY_TO),
        headers={
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Candidate-Id": content.candidate_id,
        },
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    message.merge_data = {}
    message.merge_headers = {}
    message.merge_metadata = {}
    for r in recipients:
        url = unsubscribe_url(r.email)
        message.merge_data[r.email] = {
            MERGE_GREETING_TEXT: r.greeting,
            MERGE_GREETING_HTML: escape(r.greeting),
            MERGE_UNSUBSCRIBE_URL: url,
        }
        message.merge_headers[r.email] = {"List-Unsubscribe": f"<{url}>", "X-Outreach-Id": r.outreach_id}
        message.merge_metadata[r.email] = {"outreach_id": r.outreach_id, "candidate_id": content.candidate_id}
    _attach_all(message, content)
    return message


# --- availability e-mail to the candidate -------------------------------------------------------------------------


def availability_message(candidate, connection):
    """The one availability e-mail (pipeline.md §9): greeting by given name, questions, signature; no attachments."""
    name = single_line(candidate.name_without_surname) or (single_line(candidate.name).split(" ") or [""])[0]
    address = candidate.email.strip().lower()
    context = {
        **_branding(),
        "name": name or "there",
        "subject": clean_subject(settings.AVAILABILITY_EMAIL_SUBJECT),
        "unsubscribe_url": unsubscribe_url(address),
    }
    text, html = _render("availability_email", context)
    headers = {**list_unsubscribe_headers(address), "X-Candidate-Id": str(candidate.pk)}
    message = _new_message(connection, settings.AVAILABILITY_EMAIL_SUBJECT, text, html, [address], headers)
    if is_anymail(connection):
        message.metadata = {"candidate_id": str(candidate.pk), "kind": "availability"}
    return message
