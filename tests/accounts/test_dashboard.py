"""A11: the dashboard's figures are live, exact and computed in a fixed number of queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from candidates.models import Quality, Stage
from organizations.models import Contact, Organization
from outreach.models import OutreachJob, OutreachMessage, Suppression
from tests.candidates.factories import BatchFactory, CandidateFactory

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]
URL = "/api/auth/dashboard/"


def _populate(batches: int, per_batch: int, tag: str = "a"):
    stages = [Stage.DONE, Stage.DONE, Stage.FAILED, Stage.QUEUED, Stage.ANALYSING]
    for _b in range(batches):
        batch = BatchFactory(uploaded_count=per_batch)
        for i in range(per_batch):
            CandidateFactory(
                batch=batch,
                processing_stage=stages[i % len(stages)],
                quality_status=[Quality.PASSED, Quality.MANUAL, Quality.FAILED][i % 3],
                contacts_emailed_count=1 if i == 0 else 0,
            )
    school = Organization.objects.create(
        name="Oak Primary", local_authority="Leeds", latitude=53.8, longitude=-1.5
    )
    Organization.objects.create(name="Elm Nursery", local_authority="Leeds", phase="nursery")
    contact = Contact.objects.create(
        organization=school, contact_person="Senco", job_title="Senco", work_email=f"senco-{tag}@oak.sch.uk"
    )
    candidate = CandidateFactory(batch=None, processing_stage=Stage.DONE)
    job = OutreachJob.objects.create(candidate=candidate, subject="Teacher", body="Hello")
    OutreachMessage.objects.create(
        job=job,
        candidate=candidate,
        contact=contact,
        contact_email=contact.work_email,
        subject="Teacher",
        status="sent",
        sent_at=timezone.now(),
        delivery_status="bounced",
    )
    Suppression.objects.create(email=f"gone-{tag}@school.org", reason="bounce")


def test_dashboard_figures(operator_client):
    _populate(batches=2, per_batch=5)
    body = operator_client.get(URL).json()
    assert body["summary"]["total_candidates"] == 11
    assert body["summary"]["total_uploaded"] == 10
    assert body["summary"]["total_processed"] == 5 and body["summary"]["total_failed"] == 2
    assert body["summary"]["success_rate"] == 50.0
    assert body["summary"]["total_batches"] == 2 and body["summary"]["emailed_candidates"] == 2
    assert body["ai_processing"] == {"completed": 5, "in_progress": 2, "failed": 2, "not_started": 2}
    assert sum(body["quality"].values()) == 11
    assert body["organizations"]["total"] == 2 and body["organizations"]["geocoded"] == 1
    assert body["organizations"]["geocoded_share"] == 50.0
    assert body["organizations"]["phase_breakdown"] == {"not_applicable": 1, "nursery": 1}
    assert body["summary"]["total_contacts"] == 1
    assert body["outreach"]["sent"] == 1 and body["outreach"]["sent_today"] == 1
    assert body["outreach"]["bounced"] == 1 and body["outreach"]["suppressed_addresses"] == 1
    assert len(body["recent_batches"]) == 2
    first = body["recent_batches"][0]
    assert (first["total_count"], first["processed_count"], first["failed_count"], first["progress"]) == (
        5,
        2,
        1,
        60,
    )
    assert first["status"] == "processing"
    assert body["recent_activity"]["new_candidates_last_7_days"] == 11


def test_dashboard_query_count_does_not_grow_with_data(operator_client, django_assert_max_num_queries):
    _populate(batches=1, per_batch=3)
    with django_assert_max_num_queries(12) as small:
        operator_client.get(URL)
    _populate(batches=7, per_batch=10, tag="b")
    CandidateFactory.create_batch(5, created_at=timezone.now() - timedelta(days=40))
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert operator_client.get(URL).status_code == 200


def test_dashboard_is_for_operators(api_client, make_user):
    assert api_client.get(URL).status_code == 401
    api_client.force_authenticate(make_user("plain@example.org"))
    assert api_client.get(URL).status_code == 403
