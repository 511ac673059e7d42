"""A12/A13 activity log: record_activity, filters, per-user read state, mark-read, retention (B26, P7)."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.activity import record_activity
from accounts.models import ActivityLog, ActivityRead
from cvengine.celery import app as celery_app

from .conftest import bearer

pytestmark = pytest.mark.django_db

URL = "/api/auth/activity/"
MARK = "/api/auth/activity/mark-read/"


def client_for(user):
    client = APIClient()
    client.credentials(**bearer(user))
    return client


def seed():
    """Three entries, oldest first: cv_processed/success, cv_failed/error, emails_sent/info."""
    now = timezone.now()
    entries = [
        record_activity("cv_processed", title="CV processed", severity="success", candidate_id=uuid.uuid4()),
        record_activity("cv_failed", title="CV failed", message="Corrupt file", severity="error"),
        record_activity("emails_sent", title="Sent 3 e-mails", organization_id=uuid.uuid4()),
    ]
    for age, entry in zip((3, 2, 1), entries, strict=True):
        ActivityLog.objects.filter(pk=entry.pk).update(created_at=now - timedelta(minutes=age))
    return entries


@pytest.mark.sqlite
def test_record_activity_is_a_single_insert(operator, django_assert_num_queries):
    batch = uuid.uuid4()
    with django_assert_num_queries(1):
        entry = record_activity(
            "batch_uploaded",
            title="Batch uploaded",
            message="12 CVs",
            severity="info",
            actor=operator,
            batch_id=batch,
        )
    entry.refresh_from_db()
    assert (entry.event_type, entry.batch_id, entry.actor_id) == ("batch_uploaded", batch, operator.pk)


def test_record_activity_rejects_unknown_values():
    with pytest.raises(ValueError):
        record_activity("something_else", title="x")
    with pytest.raises(ValueError):
        record_activity("cv_failed", title="x", severity="fatal")


def test_every_contract_event_type_is_declared():
    assert set(ActivityLog.EventType.values) == {
        "batch_uploaded",
        "batch_completed",
        "batch_failed",
        "cv_processed",
        "cv_failed",
        "emails_sent",
        "cv_rewrite_completed",
        "cv_rewrite_failed",
        "org_import_completed",
        "contact_import_completed",
        "import_failed",
        "outreach_delivery_problem",
    }


def test_entries_survive_deletion_of_their_actor(make_user):
    actor = make_user("temp@example.org")
    entry = record_activity("import_failed", title="Import failed", severity="error", actor=actor)
    actor.delete()
    entry.refresh_from_db()
    assert entry.actor_id is None


@pytest.mark.sqlite
def test_list_newest_first_with_envelope_and_unread_count(operator):
    first, second, third = seed()
    body = client_for(operator).get(URL).json()
    assert [item["id"] for item in body["results"]] == [str(third.pk), str(second.pk), str(first.pk)]
    assert body["unread_count"] == 3 and body["pagination"]["total"] == 3
    item = body["results"][1]
    assert set(item) == {
        "id",
        "event_type",
        "severity",
        "title",
        "message",
        "is_read",
        "candidate_id",
        "batch_id",
        "organization_id",
        "created_at",
        "actor_id",
    }
    assert (item["event_type"], item["severity"], item["message"], item["is_read"]) == (
        "cv_failed",
        "error",
        "Corrupt file",
        False,
    )
    assert body["results"][2]["candidate_id"] == str(first.candidate_id)


def test_filters(operator):
    seed()
    client = client_for(operator)
    assert [r["title"] for r in client.get(URL, {"severity": "error"}).json()["results"]] == ["CV failed"]
    assert [r["title"] for r in client.get(URL, {"event_type": "emails_sent"}).json()["results"]] == [
        "Sent 3 e-mails"
    ]
    assert client.get(URL, {"unread": "false"}).json()["results"] == []
    assert len(client.get(URL, {"unread": "TRUE"}).json()["results"]) == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"severity": "fatal"}, "severity"),
        ({"event_type": "nope"}, "event_type"),
        ({"unread": "maybe"}, "unread"),
    ],
)
def test_unknown_filter_values_are_400(operator, params, field):
    response = client_for(operator).get(URL, params)
    assert response.status_code == 400 and field in response.json()


def test_pagination(operator):
    for n in range(25):
        record_activity("cv_processed", title=f"CV {n}")
    body = client_for(operator).get(URL, {"page": 2}).json()
    assert len(body["results"]) == 5 and body["pagination"]["page"] == 2 and body["unread_count"] == 25
    assert client_for(operator).get(URL, {"page": 9}).status_code == 404


@pytest.mark.sqlite
def test_read_state_is_per_user(operator, superuser):
    first, second, third = seed()
    response = client_for(operator).post(MARK, {"ids": [str(first.pk), str(third.pk)]}, format="json")
    assert response.json() == {"message": "2 notification(s) marked as read.", "updated": 2}
    mine = client_for(operator).get(URL).json()
    assert mine["unread_count"] == 1
    assert {r["id"]: r["is_read"] for r in mine["results"]} == {
        str(first.pk): True,
        str(second.pk): False,
        str(third.pk): True,
    }
    assert [r["id"] for r in client_for(operator).get(URL, {"unread": "true"}).json()["results"]] == [
        str(second.pk)
    ]
    theirs = client_for(superuser).get(URL).json()
    assert theirs["unread_count"] == 3 and not any(r["is_read"] for r in theirs["results"])
    # Marking again counts only what was still unread.
    again = client_for(operator).post(MARK, {"ids": [str(first.pk), str(second.pk)]}, format="json")
    assert again.json()["updated"] == 1


def test_mark_all_is_one_update_not_one_row_per_entry(operator, django_assert_max_num_queries):
    for n in range(50):
        record_activity("cv_processed", title=f"CV {n}")
    entry = ActivityLog.objects.first()
    client = client_for(operator)
    client.post(MARK, {"ids": [str(entry.pk)]}, format="json")
    with django_assert_max_num_queries(8):
        response = client.post(MARK, {}, format="json")
    assert response.json() == {"message": "49 notification(s) marked as read.", "updated": 49}
    assert ActivityRead.objects.count() == 0  # covered by the user's timestamp now
    operator.refresh_from_db()
    assert operator.activity_read_before is not None
    assert client.get(URL).json()["unread_count"] == 0
    # Entries written later are unread again.
    record_activity("emails_sent", title="Later")
    body = client.get(URL).json()
    assert body["unread_count"] == 1 and body["results"][0]["is_read"] is False
    assert client.post(MARK, {"ids": []}, format="json").json()["updated"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"ids": "not-a-list"},
        {"ids": ["not-a-uuid"]},
        {"ids": [123]},
        {"ids": [str(uuid.uuid4())] * 1001},
        ["a", "b"],
    ],
)
def test_mark_read_rejects_malformed_ids(operator, body):
    response = client_for(operator).post(MARK, body, format="json")
    assert response.status_code == 400


def test_unknown_ids_are_ignored(operator):
    response = client_for(operator).post(MARK, {"ids": [str(uuid.uuid4())]}, format="json")
    assert response.json() == {"message": "0 notification(s) marked as read.", "updated": 0}


def test_activity_needs_an_operator(api_client, normal_user):
    assert api_client.get(URL).status_code == 401
    assert client_for(normal_user).get(URL).status_code == 403
    assert client_for(normal_user).post(MARK, {}, format="json").status_code == 403


def test_purge_by_age_and_cap(operator, settings, eager_celery):
    settings.ACTIVITY_RETENTION_DAYS = 90
    settings.ACTIVITY_MAX_ENTRIES = 5
    now = timezone.now()
    old = record_activity("cv_processed", title="ancient")
    ActivityLog.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=91))
    recent = [record_activity("cv_processed", title=f"recent {n}") for n in range(7)]
    for age, entry in enumerate(reversed(recent)):
        ActivityLog.objects.filter(pk=entry.pk).update(created_at=now - timedelta(minutes=age))
    ActivityRead.objects.create(user=operator, activity=recent[0])
    from accounts.tasks import purge_activity

    assert purge_activity.delay().get() == 3
    assert list(ActivityLog.objects.values_list("title", flat=True)) == [
        f"recent {n}" for n in range(6, 1, -1)
    ]
    assert ActivityRead.objects.count() == 0  # read rows go with their entries


def test_purge_task_is_scheduled_on_the_default_queue():
    from accounts.tasks import purge_activity

    entry = celery_app.conf.beat_schedule["accounts.purge_activity"]
    assert entry["task"] == "accounts.purge_activity"
    assert purge_activity.queue == "default" and purge_activity.time_limit == 60
