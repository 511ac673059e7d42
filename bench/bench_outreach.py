"""Outreach figures: 1000 contacts handed to the provider (a local fake of SendGrid's v3 API behind anymail).

Targets (issue "Outreach"): all 1000 messages accepted by the provider in ≤ 10 s, with ≤ 1 API call per 1000
recipients. Runs the real job code (claims, batch message, per-row records, candidate figures) on PostgreSQL.
"""

import time
import uuid

from bench import django_env

CONTACTS = 1000


def _fake_sendgrid():
    from tests.fakes import FakeHTTPServer

    return FakeHTTPServer(lambda request: (202, {"X-Message-Id": uuid.uuid4().hex}, b""))


def _fixtures():
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from candidates.models import Candidate, Stage
    from organizations.models import Contact, Organization

    run = uuid.uuid4().hex[:8]
    candidate = Candidate.objects.create(
        name="Sarah Jones",
        name_without_surname="Sarah",
        email=f"bench.{run}@example.org",
        email_subject="Experienced primary teacher available",
        email_body="Sarah is a primary teacher with six years' experience.\n\nShe is available now.",
        file_sha256=uuid.uuid4().hex * 2,
        processing_stage=Stage.DONE,
    )
    pdf = b"%PDF-1.7\n" + b"0" * 150_000 + b"\n%%EOF\n"  # a typical enhanced CV size
    name = default_storage.save(f"candidates/enhanced/{candidate.pk}/bench.pdf", ContentFile(pdf))
    Candidate.objects.filter(pk=candidate.pk).update(enhanced_cv=name)
    candidate.refresh_from_db()
    org = Organization.objects.create(name=f"Bench Academy {run}", local_authority="Leeds")
    contacts = Contact.objects.bulk_create(
        Contact(
            organization=org,
            contact_person=f"Teacher {i}",
            job_title="Headteacher",
            work_email=f"head{i}.{run}@school.sch.uk",
        )
        for i in range(CONTACTS)
    )
    return candidate, org, contacts


def run(report):
    django_env.setup()
    from django.test import override_settings

    from outreach import services
    from outreach.models import OutreachMessage

    server = _fake_sendgrid()
    candidate, org, contacts = _fixtures()
    try:
        with override_settings(
            EMAIL_BACKEND="anymail.backends.sendgrid.EmailBackend",
            ANYMAIL={"SENDGRID_API_KEY": "SG.bench", "SENDGRID_API_URL": server.url + "/v3/"},
            PUBLIC_BASE_URL="https://cv.agency.example",
        ):
            started = time.perf_counter()
            job = services.start_outreach(candidate, contact_ids_raw=[str(c.pk) for c in contacts], user=None)
            accepted = time.perf_counter() - started
            services.run_outreach_job(job["task_id"])
            elapsed = time.perf_counter() - started
        sent = OutreachMessage.objects.filter(job_id=job["task_id"], status="sent").count()
        recipients = sum(len(r.json()["personalizations"]) for r in server.requests)
        calls = len(server.requests)
    finally:
        server.close()
        org.delete()
        candidate.delete()

    ok = sent == CONTACTS and recipients == CONTACTS
    report.add(
        "outreach", "send-to-contacts request (1000 contacts validated, recorded)", accepted * 1000, "ms"
    )
    report.add(
        "outreach",
        f"{CONTACTS} contacts handed to the provider ({sent} sent)",
        elapsed,
        "s",
        "≤ 10 s",
        ok and elapsed <= 10,
    )
    per_thousand = calls / (CONTACTS / 1000)
    report.add(
        "outreach",
        "provider API calls per 1000 recipients",
        per_thousand,
        "",
        "≤ 1",
        ok and per_thousand <= 1,
    )
