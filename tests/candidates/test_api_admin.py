"""Admin for batches and candidates: operators browse, search, filter and delete (files cleaned up); no edits."""

import pytest
from django.core.files.storage import default_storage

from candidates.models import Batch, Candidate, Stage
from tests.candidates.factories import BatchFactory, CandidateFactory

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.fixture
def admin_client(client, operator):
    client.force_login(operator)
    return client


def test_operator_browses_searches_and_filters(admin_client):
    batch = BatchFactory(uploaded_count=2)
    sarah = CandidateFactory(name="Sarah Jones", batch=batch, processing_stage=Stage.DONE)
    CandidateFactory(name="Tom Brown", batch=batch, processing_stage=Stage.FAILED)
    page = admin_client.get("/admin/candidates/candidate/", {"q": "SARAH"})
    assert page.status_code == 200
    assert "Sarah Jones" in page.text and "Tom Brown" not in page.text
    page = admin_client.get("/admin/candidates/candidate/", {"processing_stage__exact": "failed"})
    assert "Tom Brown" in page.text and "Sarah Jones" not in page.text
    page = admin_client.get(f"/admin/candidates/candidate/{sarah.pk}/change/")
    assert page.status_code == 200 and "Sarah Jones" in page.text
    assert "Confidential CV text" not in page.text  # extracted text is not shown
    page = admin_client.get("/admin/candidates/batch/", {"status": "completed_with_errors"})
    assert page.status_code == 200 and str(batch.pk) in page.text
    page = admin_client.get("/admin/candidates/batch/", {"status": "queued"})
    assert str(batch.pk) not in page.text
    assert admin_client.get(f"/admin/candidates/batch/{batch.pk}/change/").status_code == 200


def test_no_adding_or_editing(admin_client):
    candidate = CandidateFactory(name="Sarah Jones")
    assert admin_client.get("/admin/candidates/candidate/add/").status_code == 403
    admin_client.post(f"/admin/candidates/candidate/{candidate.pk}/change/", {"name": "Changed"})
    assert Candidate.objects.get(pk=candidate.pk).name == "Sarah Jones"


def test_admin_delete_goes_through_the_service(
    admin_client, eager_celery, django_capture_on_commit_callbacks
):
    candidate = CandidateFactory(files=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/candidates/candidate/{candidate.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Candidate.objects.filter(pk=candidate.pk).exists()
    assert not default_storage.exists(candidate.original_file)
    batch = BatchFactory()
    member = CandidateFactory(batch=batch, files=True)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/candidates/batch/",
            {"action": "delete_selected", "_selected_action": [str(batch.pk)], "post": "yes"},
        )
    assert not Batch.objects.filter(pk=batch.pk).exists()
    assert not default_storage.exists(member.enhanced_cv)


def test_non_operators_are_kept_out(client, make_user):
    client.force_login(make_user("plain@example.org"))
    assert client.get("/admin/candidates/candidate/").status_code == 302  # to the admin login
