"""C6 candidate delete and C14 batch delete: rows gone, every stored file (all versions) deleted after commit."""

import uuid

import pytest
from django.core.files.storage import default_storage

from candidates.models import Batch, Candidate
from cvengine import storage
from outreach.models import CandidateEmail
from tests.candidates.factories import BatchFactory, CandidateFactory, store

pytestmark = pytest.mark.django_db


def files_of(candidate) -> list[str]:
    return [candidate.original_file, candidate.enhanced_cv, candidate.profile_photo]


@pytest.mark.sqlite
def test_delete_candidate_removes_row_outreach_records_and_every_file(
    operator_client, eager_celery, django_capture_on_commit_callbacks
):
    candidate = CandidateFactory(name="Sarah Jones", files=True)
    old_pdf = store(f"candidates/enhanced/{candidate.id}/{'0' * 64}.pdf", b"%PDF old version")
    CandidateEmail.objects.create(candidate=candidate, kind="availability")
    duplicate = CandidateFactory(duplicate_of=candidate)
    other = CandidateFactory(files=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.delete(f"/api/candidates/{candidate.id}/delete/")
    assert response.status_code == 200
    assert response.json() == {"message": "Candidate 'Sarah Jones' deleted. 3 file(s) queued for cleanup."}
    assert not Candidate.objects.filter(pk=candidate.pk).exists()
    assert not CandidateEmail.objects.filter(candidate_id=candidate.pk).exists()
    assert Candidate.objects.get(pk=duplicate.pk).duplicate_of_id is None
    for name in [*files_of(candidate), old_pdf]:
        assert not default_storage.exists(name), name
    assert storage.list_prefix(f"candidates/enhanced/{candidate.id}/") == []
    assert all(default_storage.exists(name) for name in files_of(other))  # nobody else's files


@pytest.mark.sqlite
def test_delete_candidate_without_name_or_files(operator_client, django_capture_on_commit_callbacks):
    candidate = CandidateFactory(name="")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = operator_client.delete(f"/api/candidates/{candidate.id}/delete/")
    assert response.json() == {
        "message": f"Candidate '{candidate.id}' deleted. 0 file(s) queued for cleanup."
    }
    assert len(callbacks) == 1  # folders are still swept (a render may have stored a PDF meanwhile)
    second = operator_client.delete(f"/api/candidates/{candidate.id}/delete/")
    assert second.status_code == 404 and second.json() == {"detail": "Candidate not found."}


@pytest.mark.sqlite
def test_nothing_is_deleted_from_storage_before_commit(operator_client, django_capture_on_commit_callbacks):
    candidate = CandidateFactory(files=True)
    with django_capture_on_commit_callbacks(execute=False):
        operator_client.delete(f"/api/candidates/{candidate.id}/delete/")
    assert all(default_storage.exists(name) for name in files_of(candidate))


@pytest.mark.sqlite
def test_delete_batch_removes_its_candidates_and_their_files(
    operator_client, eager_celery, django_capture_on_commit_callbacks
):
    batch, other_batch = BatchFactory(uploaded_count=3), BatchFactory()
    members = [CandidateFactory(batch=batch, files=True) for _ in range(2)] + [CandidateFactory(batch=batch)]
    outsider = CandidateFactory(batch=other_batch, files=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.delete(f"/api/candidates/batches/{batch.id}/delete/")
    assert response.status_code == 200
    assert response.json() == {
        "message": "Batch deleted successfully.",
        "candidates_deleted": 3,
        "files_queued": 6,
    }
    assert not Batch.objects.filter(pk=batch.pk).exists()
    assert not Candidate.objects.filter(pk__in=[c.pk for c in members]).exists()
    for candidate in members[:2]:
        assert not any(default_storage.exists(name) for name in files_of(candidate))
    assert all(default_storage.exists(name) for name in files_of(outsider))
    assert Candidate.objects.filter(pk=outsider.pk).exists()


@pytest.mark.sqlite
def test_delete_empty_batch_and_404s(operator_client):
    batch = BatchFactory()
    response = operator_client.delete(f"/api/candidates/batches/{batch.id}/delete/")
    assert response.json() == {
        "message": "Batch deleted successfully.",
        "candidates_deleted": 0,
        "files_queued": 0,
    }
    for bad in (str(batch.id), "nope", str(uuid.uuid4())):
        response = operator_client.delete(f"/api/candidates/batches/{bad}/delete/")
        assert response.status_code == 404 and response.json() == {"detail": "Batch not found."}


def test_large_batch_cleanup_is_split_into_bounded_tasks(operator_client, django_capture_on_commit_callbacks):
    from candidates import services

    batch = BatchFactory()
    CandidateFactory.create_batch(services.CLEANUP_CHUNK + 5, batch=batch)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        body = operator_client.delete(f"/api/candidates/batches/{batch.id}/delete/").json()
    assert body["candidates_deleted"] == services.CLEANUP_CHUNK + 5
    assert len(callbacks) == 2


@pytest.mark.sqlite
def test_prefix_deletion_refuses_unsafe_prefixes():
    for prefix in ("", "/", "candidates/", "candidates", "../x/y/", "candidates//", "/candidates/x/"):
        with pytest.raises(ValueError):
            storage.delete_files([], [prefix])
