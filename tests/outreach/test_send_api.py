"""POST /api/candidates/<id>/send-to-contacts/ (api.md §5.1): checks in order, status codes and messages."""

import uuid

import pytest
from rest_framework.test import APIClient

from outreach import tasks
from outreach.models import OutreachJob, OutreachMessage, Suppression

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.fixture
def queued(monkeypatch):
    """Jobs handed to the broker (recorded instead of published)."""
    sent = []
    monkeypatch.setattr(tasks.send_outreach, "delay", sent.append)
    return sent


def _post(client, candidate_id, body, **kwargs):
    return client.post(f"/api/candidates/{candidate_id}/send-to-contacts/", body, format="json", **kwargs)


def test_operator_only(api_client, make_user, candidate):
    assert _post(api_client, candidate.pk, {}).status_code == 401
    client = APIClient()
    client.force_authenticate(make_user("someone@example.org"))
    assert _post(client, candidate.pk, {}).status_code == 403


@pytest.mark.parametrize("candidate_id", [uuid.uuid4(), "not-a-uuid"])
def test_unknown_candidate_is_404(operator_client, candidate_id):
    response = _post(operator_client, candidate_id, {"contact_ids": []})
    assert response.status_code == 404 and response.json() == {"detail": "Candidate not found."}


def test_checks_run_in_contract_order(operator_client, make_candidate, make_contacts, settings):
    contact = make_contacts(1)[0]
    no_cv = make_candidate(with_cv=False, email_subject="", email_body="")
    bad_everything = {"contact_ids": ["nope"], "subject": ""}
    response = _post(operator_client, no_cv.pk, bad_everything)
    assert response.status_code == 409
    assert response.json() == {"detail": "Candidate has no enhanced CV yet.", "code": "cv_not_ready"}

    empty = make_candidate(email_subject="", email_body="")
    response = _post(operator_client, empty.pk, bad_everything)
    assert response.status_code == 400
    assert (
        response.json()["detail"]
        == "Candidate has no email subject or body. Process the CV through AI first."
    )
    # An operator-supplied subject and body make it usable.
    assert (
        _post(operator_client, empty.pk, {**bad_everything, "subject": "Teacher", "body": "Hi"}).status_code
        == 400
    )

    candidate = make_candidate()
    pii = {"contact_ids": ["nope"], "body": "Sarah Jones is great."}
    assert _post(operator_client, candidate.pk, pii).status_code == 400  # contact_ids before the PII guard
    settings.OUTREACH_SENDING_ENABLED = False
    response = _post(operator_client, candidate.pk, {**pii, "contact_ids": [str(contact.pk)]})
    assert response.status_code == 422  # the PII guard before 503
    response = _post(operator_client, candidate.pk, {"contact_ids": [str(contact.pk)]})
    assert response.status_code == 503
    assert response.json() == {"detail": "Email sending is not configured.", "code": "email_unavailable"}


@pytest.mark.parametrize(
    ("contact_ids", "expected"),
    [
        (None, {"detail": "contact_ids is required and cannot be empty.", "code": "contact_ids_required"}),
        ([], {"detail": "contact_ids is required and cannot be empty.", "code": "contact_ids_required"}),
        ("abc", {"detail": "contact_ids must be a list of UUIDs.", "code": "contact_ids_invalid"}),
        ({"a": 1}, {"detail": "contact_ids must be a list of UUIDs.", "code": "contact_ids_invalid"}),
        (
            [str(uuid.uuid4()), "x", 7],
            {"contact_ids": {"1": ["Must be a valid UUID."], "2": ["Must be a valid UUID."]}},
        ),
    ],
)
def test_contact_ids_validation(operator_client, candidate, contact_ids, expected):
    body = {} if contact_ids is None else {"contact_ids": contact_ids}
    response = _post(operator_client, candidate.pk, body)
    assert response.status_code == 400 and response.json() == expected


def test_at_most_1000_unique_contacts(operator_client, candidate, queued):
    ids = [str(uuid.uuid4()) for _ in range(1001)]
    response = _post(operator_client, candidate.pk, {"contact_ids": ids})
    assert response.status_code == 400
    assert response.json() == {"detail": "Maximum 1000 contacts per request.", "code": "too_many_contacts"}
    response = _post(
        operator_client, candidate.pk, {"contact_ids": ids[:1000] + ids[:500]}
    )  # duplicates count once
    assert response.status_code == 202 and response.json()["contact_count"] == 1000


@pytest.mark.parametrize(
    ("field", "text", "term"),
    [
        ("body", "Please meet Sarah Jones, a KS2 teacher.", "Jones"),
        ("body", "Reach her on 07700 900123.", "07700 900123"),
        ("subject", "Teacher in LS6 2AB", "LS6 2AB"),
        ("body", "Write to sarah.jones0@EXAMPLE.org", None),
    ],
)
def test_pii_guard_rejects_the_candidates_details(
    operator_client, make_candidate, make_contacts, field, text, term
):
    candidate = make_candidate(email="sarah.jones0@example.org")
    response = _post(
        operator_client, candidate.pk, {"contact_ids": [str(make_contacts(1)[0].pk)], field: text}
    )
    assert response.status_code == 422
    data = response.json()
    assert data["code"] == "pii_in_outreach" and data["detail"]
    assert data["terms"] == [term or "sarah.jones0@example.org"]
    assert OutreachJob.objects.count() == 0


def test_pii_guard_allows_employer_names_that_contain_the_surname(
    operator_client, candidate, make_contacts, queued
):
    body = {"contact_ids": [str(make_contacts(1)[0].pk)], "body": "Sarah taught at Jones Park Academy."}
    assert _post(operator_client, candidate.pk, body).status_code == 202


def test_subject_must_be_a_single_line_and_fields_are_bounded(operator_client, candidate):
    ids = [str(uuid.uuid4())]
    response = _post(
        operator_client, candidate.pk, {"contact_ids": ids, "subject": "Hi\r\nBcc: x@evil.example"}
    )
    assert response.status_code == 400 and response.json() == {
        "subject": ["The subject must be a single line."]
    }
    response = _post(
        operator_client, candidate.pk, {"contact_ids": ids, "subject": "s" * 201, "body": "b" * 20001}
    )
    assert response.status_code == 400 and set(response.json()) == {"subject", "body"}
    response = _post(operator_client, candidate.pk, {"contact_ids": ids, "force": "maybe"})
    assert response.status_code == 400 and "force" in response.json()
    response = operator_client.post(
        f"/api/candidates/{candidate.pk}/send-to-contacts/", "[1, 2]", content_type="application/json"
    )
    assert response.status_code == 400
    response = operator_client.post(
        f"/api/candidates/{candidate.pk}/send-to-contacts/", "{bad json", content_type="application/json"
    )
    assert response.status_code == 400


def test_accepted_with_precomputed_counts_and_queued_records(
    operator_client, operator, candidate, make_contacts, queued, django_capture_on_commit_callbacks
):
    contacts = make_contacts(4)
    Suppression.objects.create(email=contacts[0].work_email, reason="bounce")
    earlier = OutreachJob.objects.create(candidate=candidate, subject="s", body="b")
    OutreachMessage.objects.create(
        job=earlier,
        candidate=candidate,
        contact=contacts[1],
        contact_email=contacts[1].work_email,
        subject="s",
        status="sent",
    )
    missing = str(uuid.uuid4())
    ids = [str(c.pk) for c in contacts] + [missing, str(contacts[2].pk)]
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            operator_client, candidate.pk, {"contact_ids": ids, "subject": "Primary teacher available"}
        )
    assert response.status_code == 202
    data = response.json()
    job = OutreachJob.objects.get(pk=data["task_id"])
    assert data == {
        "message": "Sending emails to 5 contacts.",
        "task_id": str(job.pk),
        "candidate": "Sarah Jones",
        "contact_count": 5,
        "poll_url": f"/api/candidates/send-status/{job.pk}/",
        "to_send": 2,
        "skipped_already_sent": 1,
        "skipped_suppressed": 1,
        "not_found": 1,
    }
    assert queued == [str(job.pk)]  # enqueued once, after the commit
    assert job.status == "pending" and job.requested_count == 5 and job.not_found_ids == [missing]
    assert job.subject == "Primary teacher available" and job.body == candidate.email_body
    assert job.created_by == operator and job.force is False
    rows = job.messages.all()
    assert len(rows) == 4 and {r.status for r in rows} == {"queued"}  # the worker re-checks skips
    assert {r.organization_name for r in rows} == {contacts[0].organization.name}


def test_form_encoded_body_is_accepted(operator_client, candidate, make_contacts, queued):
    contacts = make_contacts(2)
    response = operator_client.post(
        f"/api/candidates/{candidate.pk}/send-to-contacts/",
        {"contact_ids": [str(c.pk) for c in contacts], "force": "true"},
    )
    assert response.status_code == 202 and response.json()["contact_count"] == 2
    assert OutreachJob.objects.get().force is True


def test_broker_down_marks_the_job_failed_instead_of_leaving_it_pending(
    operator_client, candidate, make_contacts, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    def down(*args):
        raise OperationalError("Connection refused")

    monkeypatch.setattr(tasks.send_outreach, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(operator_client, candidate.pk, {"contact_ids": [str(make_contacts(1)[0].pk)]})
    assert response.status_code == 202
    job = OutreachJob.objects.get()
    assert job.status == "failed" and "task queue is unavailable" in job.error
    status = operator_client.get(f"/api/candidates/send-status/{job.pk}/").json()
    assert status["status"] == "failed" and status["summary"]["failed"] == 1
