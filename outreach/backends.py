"""The outbox e-mail backend: messages are stored in the database (visible in the admin), not sent."""

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMultiAlternatives
from django.db import transaction

_KEPT_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post", "X-Outreach-Id", "X-Candidate-Id")


class OutboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        from .models import OutboxMessage

        rows = [self._row(message) for message in email_messages]
        with transaction.atomic():
            OutboxMessage.objects.bulk_create(rows)
        for message, row in zip(email_messages, rows, strict=True):
            message.extra_headers.setdefault("Message-ID", row.message_id)
            # Same contract as anymail: callers read the provider id from the message.
            message.outbox_id = str(row.id)
        return len(rows)

    @staticmethod
    def _row(message):
        from django.core.mail import make_msgid

        from .models import OutboxMessage

        html = ""
        if isinstance(message, EmailMultiAlternatives):
            html = next(
                (content for content, mimetype in message.alternatives if mimetype == "text/html"), ""
            )
        attachments = []
        for attachment in message.attachments:
            filename, content, mimetype = (
                (
                    attachment.get_filename(),
                    attachment.get_payload(decode=True),
                    attachment.get_content_type(),
                )
                if not isinstance(attachment, tuple)
                else attachment
            )
            attachments.append({"filename": filename, "mimetype": mimetype, "size": len(content or b"")})
        return OutboxMessage(
            message_id=message.extra_headers.get("Message-ID") or make_msgid(domain="cvengine.local"),
            from_email=message.from_email,
            to=list(message.to),
            cc=list(message.cc),
            bcc=list(message.bcc),
            reply_to=list(message.reply_to),
            subject=message.subject,
            body=message.body,
            html_body=html,
            headers={k: v for k, v in message.extra_headers.items() if k in _KEPT_HEADERS},
            attachments=attachments,
        )
