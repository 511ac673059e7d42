"""Send status (api.md §5.2) and outreach history (§5.3)."""

import uuid

import pytest

from outreach import services
from outreach.models import OutreachJob, OutreachMessage, Suppression

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _status(client, job_id):
    response = client.get(f"/api/candidates/send-status/{job_id}/")
    assert response.status_code == 200, response.content
    return response.json()


def test_status_pending_processing_completed(
    operator_client, candidate, make_contacts, sendgrid, settings, operator
):
    contacts = make_contacts(4)
    Suppression.objects.create(email=contacts[0].work_email, reason="unsubscribe")
    services.run_outreach_job(
        services.start_outreach(candidate, contact_ids_raw=[str(contacts[1].pk)], user=operator)["task_id"]
    )
    missing = str(uuid.uuid4())
    job_id = services.start_outreach(
        candidate, contact_ids_raw=[str(c.pk) for c in contacts] + [missing], user=operator
    )["task_id"]

    assert _status(operator_client, job_id) == {
        "status": "pending",
        "message": "Emails are still being sent.",
    }
    OutreachJob.objects.filter(pk=job_id).update(status="processing")
    assert _status(operator_client, job_id) == {
        "status": "processing",
        "message": "Processing.",
        "progress": {"done": 1, "total": 5},  # the not-found id is already decided
    }
    OutreachJob.objects.filter(pk=job_id).update(status="pending")

    settings.OUTREACH_BATCH_SIZE = 1
    message = "Does not contain a valid address."
    sendgrid.script.answers = [(202, {}, b""), (400, {}, {"errors": [{"message": message}]})]
    services.run_outreach_job(job_id)
    body = _status(operator_client, job_id)
    assert body["status"] == "completed"
    summary = body["summary"]
    assert summary == {
        "total": 5,
        "sent": 1,
        "failed": 1,
        "skipped": 1,
        "suppressed": 1,
        "not_found": 1,
        "errors": [
            f"{summary['errors'][0].split(':')[0]}: Rejected by the e-mail provider (HTTP 400): {message}"
        ],
    }
    assert summary["total"] == sum(
        summary[k] for k in ("sent", "failed", "skipped", "suppressed", "not_found")
    )
    results = {r["contact_id"]: r for r in body["results"]}
    assert set(results) == {str(c.pk) for c in contacts} | {missing}
    assert results[str(contacts[0].pk)]["status"] == "skipped_suppressed"
    assert results[str(contacts[1].pk)]["status"] == "skipped_already_sent"
    assert results[missing] == {
        "contact_id": missing,
        "email": None,
        "organization_name": None,
        "status": "not_found",
        "message_id": None,
        "error": "Contact not found.",
        "delivery_status": None,
    }
    sent = next(r for r in body["results"] if r["status"] == "sent")
    assert sent["message_id"] and sent["error"] is None and sent["delivery_status"] == "unknown"
    assert sent["organization_name"] == contacts[0].organization.name


def test_failed_job_reports_error_with_summary_and_results(
    operator_client, candidate, make_contacts, operator, smtp_settings
):
    from django.core.files.storage import default_storage

    job_id = services.start_outreach(candidate, contact_ids_raw=[str(make_contacts(1)[0].pk)], user=operator)[
        "task_id"
    ]
    default_storage.delete(candidate.enhanced_cv)
    services.run_outreach_job(job_id)
    body = _status(operator_client, job_id)
    assert body["status"] == "failed" and "missing" in body["error"]
    assert body["summary"]["failed"] == body["summary"]["total"] == 1 and len(body["results"]) == 1


@pytest.mark.parametrize("task_id", [uuid.uuid4(), "garbage", "00000000-0000-0000-0000-00000000000"])
def test_status_of_anything_but_an_outreach_job_is_404(operator_client, task_id):
    response = operator_client.get(f"/api/candidates/send-status/{task_id}/")
    assert response.status_code == 404 and response.json() == {"detail": "Task not found."}


def test_status_and_history_are_operator_only(api_client, candidate):
    assert api_client.get(f"/api/candidates/send-status/{uuid.uuid4()}/").status_code == 401
    assert api_client.get(f"/api/candidates/{candidate.pk}/outreach/").status_code == 401


def test_history_envelope_newest_first_with_filters(
    operator_client, operator, candidate, make_candidate, make_contacts, sendgrid
):
    contacts = make_contacts(3)
    first = services.start_outreach(
        candidate, contact_ids_raw=[str(c.pk) for c in contacts[:2]], user=operator
    )["task_id"]
    services.run_outreach_job(first)
    second = services.start_outreach(candidate, contact_ids_raw=[str(c.pk) for c in contacts], user=operator)[
        "task_id"
    ]
    services.run_outreach_job(second)
    other = make_candidate()
    services.run_outreach_job(
        services.start_outreach(other, contact_ids_raw=[str(contacts[0].pk)], user=operator)["task_id"]
    )
    OutreachMessage.objects.filter(job_id=first, contact=contacts[0]).update(delivery_status="bounced")

    body = operator_client.get(f"/api/candidates/{candidate.pk}/outreach/").json()
    assert body["pagination"]["total"] == 5
    first_row = body["results"][0]
    assert set(first_row) == {
        "id",
        "task_id",
        "contact_id",
        "contact_person",
        "contact_email",
        "organization_id",
        "organization_name",
        "subject",
        "status",
        "delivery_status",
        "provider_message_id",
        "error",
        "sent_at",
        "delivery_updated_at",
        "created_by",
    }
    assert [r["task_id"] for r in body["results"]][:3] == [second] * 3  # newest first
    assert first_row["created_by"] == str(operator.pk)

    def ids(query):
        response = operator_client.get(f"/api/candidates/{candidate.pk}/outreach/?{query}")
        assert response.status_code == 200, response.content
        return sorted((r["task_id"], r["contact_id"], r["status"]) for r in response.json()["results"])

    assert ids("status=skipped_already_sent") == sorted(
        (second, str(c.pk), "skipped_already_sent") for c in contacts[:2]
    )
    assert ids("delivery_status=bounced") == [(first, str(contacts[0].pk), "sent")]
    assert len(ids(f"contact_id={contacts[0].pk}")) == 2
    for bad in ("status=exploded", "delivery_status=lost", "contact_id=nope"):
        assert operator_client.get(f"/api/candidates/{candidate.pk}/outreach/?{bad}").status_code == 400
    assert operator_client.get(f"/api/candidates/{uuid.uuid4()}/outreach/").status_code == 404
    assert operator_client.get("/api/candidates/nope/outreach/").status_code == 404


def test_contact_figures_follow_from_the_records(operator, candidate, make_contacts, sendgrid):
    contacts = make_contacts(3)
    for ids, force in (([contacts[0], contacts[1]], False), (contacts, True), (contacts, True)):
        job = services.start_outreach(
            candidate, contact_ids_raw=[str(c.pk) for c in ids], user=operator, force=force
        )
        services.run_outreach_job(job["task_id"])
    candidate.refresh_from_db()
    assert candidate.contacts_emailed_count == 3  # distinct contacts ever sent, not 7 sends
    last = OutreachMessage.objects.filter(status="sent").order_by("-sent_at").first()
    assert candidate.last_contacted_at == last.sent_at
    # A stale figure is corrected on the next recompute, never added to.
    from candidates.models import Candidate

    Candidate.objects.filter(pk=candidate.pk).update(contacts_emailed_count=99)
    services.recompute_candidate_stats(candidate.pk)
    candidate.refresh_from_db()
    assert candidate.contacts_emailed_count == 3
