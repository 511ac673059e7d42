"""C12/C13 batches: live counts from one aggregate query, status rules, ordering, filters, batch_stats()."""

import uuid
from datetime import timedelta

import pytest

from candidates.models import Batch, Quality, Stage
from candidates.selectors import annotate_batch_stats, batch_stats, stats_of
from tests.candidates.factories import BatchFactory, CandidateFactory

pytestmark = pytest.mark.django_db
URL = "/api/candidates/batches/"


def make_batch(stages=(), qualities=None, **fields):
    batch = BatchFactory(**fields)
    qualities = qualities or [Quality.PENDING] * len(stages)
    for stage, quality in zip(stages, qualities, strict=True):
        CandidateFactory(batch=batch, processing_stage=stage, quality_status=quality)
    return batch


@pytest.mark.sqlite
def test_batch_shape_and_counts(operator_client, operator):
    batch = make_batch(
        [
            Stage.QUEUED,
            Stage.EXTRACTING,
            Stage.ANALYSING,
            Stage.RENDERING,
            Stage.DONE,
            Stage.DONE,
            Stage.FAILED,
        ],
        [Quality.PENDING] * 4 + [Quality.PASSED, Quality.MANUAL, Quality.FAILED],
        uploaded_count=9,
        duplicate_count=2,
        rejected_count=1,
        created_by=operator,
        additional_info={"job_role": ["Teaching Assistant"]},
    )
    CandidateFactory(processing_stage=Stage.DONE)  # not in the batch
    body = operator_client.get(URL).json()
    assert body["pagination"]["total"] == 1
    item = body["results"][0]
    assert item == {
        "id": str(batch.id),
        "additional_info": {"job_role": ["Teaching Assistant"]},
        "uploaded_count": 9,
        "total_count": 7,
        "active_count": 7,
        "processed_count": 2,
        "failed_count": 1,
        "deleted_count": 2,
        "duplicate_count": 2,
        "rejected_count": 1,
        "stage_counts": {
            "queued": 1,
            "extracting": 1,
            "analysing": 1,
            "rendering": 1,
            "completed": 2,
            "failed": 1,
        },
        "quality_counts": {"pending": 4, "passed": 1, "failed": 1, "manual": 1},
        "progress_percentage": 42,  # floor(3 / 7 × 100)
        "status": "processing",
        "created_by": str(operator.id),
        "finished_at": None,
        "created_at": item["created_at"],
        "updated_at": item["updated_at"],
    }
    assert item["created_at"][-6:] in ("+00:00", "+01:00") or item["created_at"].endswith("Z")


@pytest.mark.sqlite
@pytest.mark.parametrize(
    ("stages", "status", "progress"),
    [
        ([], "completed", 100),
        ([Stage.DONE, Stage.DONE], "completed", 100),
        ([Stage.DONE, Stage.FAILED], "completed_with_errors", 100),
        ([Stage.FAILED], "completed_with_errors", 100),
        ([Stage.QUEUED, Stage.QUEUED], "queued", 0),
        ([Stage.QUEUED, Stage.DONE], "processing", 50),
        ([Stage.QUEUED, Stage.FAILED], "processing", 50),
        ([Stage.QUEUED, Stage.EXTRACTING], "processing", 0),
        ([Stage.RENDERING, Stage.DONE, Stage.DONE], "processing", 66),
    ],
)
def test_status_and_progress_rules(operator_client, stages, status, progress):
    batch = make_batch(stages)
    body = operator_client.get(f"{URL}{batch.id}/").json()
    assert (body["status"], body["progress_percentage"]) == (status, progress)
    # the same rules in SQL (list filter) and in Python (serializer)
    assert operator_client.get(URL, {"status": status}).json()["pagination"]["total"] == 1
    others = {"queued", "processing", "completed", "completed_with_errors"} - {status}
    for other in others:
        assert operator_client.get(URL, {"status": other}).json()["pagination"]["total"] == 0


@pytest.mark.sqlite
def test_counts_follow_deletions_and_retries_immediately(operator_client):
    batch = make_batch([Stage.DONE, Stage.FAILED], uploaded_count=2)
    failed = batch.candidates.get(processing_stage=Stage.FAILED)
    failed.delete()
    body = operator_client.get(f"{URL}{batch.id}/").json()
    assert (body["total_count"], body["deleted_count"], body["status"]) == (1, 1, "completed")


def test_page_of_20_batches_is_two_queries(operator_client, django_assert_max_num_queries):
    for i in range(22):
        make_batch([Stage.DONE, Stage.FAILED, Stage.QUEUED][: 1 + i % 3])
    with django_assert_max_num_queries(2):  # count + one grouped page query
        body = operator_client.get(URL).json()
    assert len(body["results"]) == 20 and body["pagination"]["total"] == 22
    assert sum(item["total_count"] for item in body["results"]) > 20


@pytest.mark.sqlite
@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("total_count", ["B", "C", "A"]),
        ("-total_count", ["A", "C", "B"]),
        ("processed_count", ["B", "A", "C"]),
        ("-processed_count", ["C", "A", "B"]),
        ("failed_count", ["C", "B", "A"]),
        ("-failed_count", ["A", "B", "C"]),
        ("created_at", ["A", "B", "C"]),
        ("-created_at", ["C", "B", "A"]),
    ],
)
def test_ordering(operator_client, ordering, expected):
    a = make_batch([Stage.DONE, Stage.FAILED, Stage.FAILED, Stage.QUEUED], additional_info={"n": "A"})
    b = make_batch([Stage.FAILED], additional_info={"n": "B"})
    c = make_batch([Stage.DONE, Stage.DONE], additional_info={"n": "C"})
    Batch.objects.filter(pk=b.pk).update(created_at=a.created_at + timedelta(minutes=1))
    Batch.objects.filter(pk=c.pk).update(created_at=a.created_at + timedelta(minutes=2))
    body = operator_client.get(URL, {"ordering": ordering}).json()
    assert [item["additional_info"]["n"] for item in body["results"]] == expected


@pytest.mark.sqlite
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ordering": "status"}, "ordering"),
        ({"ordering": "-name"}, "ordering"),
        ({"status": "done"}, "status"),
    ],
)
def test_invalid_list_parameters_are_400(operator_client, params, field):
    response = operator_client.get(URL, params)
    assert response.status_code == 400 and list(response.json()) == [field]


@pytest.mark.sqlite
def test_batch_detail_includes_upload_outcomes(operator_client):
    outcome = {
        "index": 0,
        "filename": "cv.doc",
        "size": 1024,
        "sha256": "a" * 64,
        "detected_type": None,
        "status": "rejected",
        "candidate_id": None,
        "duplicate_of": None,
        "reason": {"code": "unsupported_type", "message": "legacy Word .doc"},
    }
    batch = make_batch([Stage.DONE], files=[outcome], uploaded_count=1)
    body = operator_client.get(f"{URL}{batch.id}/").json()
    assert body["files"] == [outcome] and body["total_count"] == 1 and body["status"] == "completed"
    for bad in ("nope", str(uuid.uuid4())):
        response = operator_client.get(f"{URL}{bad}/")
        assert response.status_code == 404 and response.json() == {"detail": "Batch not found."}


@pytest.mark.sqlite
def test_batch_stats_for_ids_objects_and_querysets_in_one_query(django_assert_num_queries):
    full = make_batch(
        [Stage.DONE, Stage.FAILED, Stage.QUEUED], [Quality.PASSED, Quality.FAILED, Quality.PENDING]
    )
    empty = make_batch([])
    with django_assert_num_queries(1):
        stats = batch_stats([full.id, str(empty.id)])
    assert stats[full.id].as_dict(uploaded_count=5) == {
        "total_count": 3,
        "active_count": 3,
        "processed_count": 1,
        "failed_count": 1,
        "stage_counts": {
            "queued": 1,
            "extracting": 0,
            "analysing": 0,
            "rendering": 0,
            "completed": 1,
            "failed": 1,
        },
        "quality_counts": {"pending": 1, "passed": 1, "failed": 1, "manual": 0},
        "progress_percentage": 66,
        "status": "processing",
        "deleted_count": 2,
    }
    assert stats[str(empty.id)].status == "completed" and stats[str(empty.id)].progress_percentage == 100
    with django_assert_num_queries(1):
        by_queryset = batch_stats(Batch.objects.order_by("-created_at")[:5])
    assert by_queryset[full.id] == stats[full.id] and empty.id not in by_queryset
    assert batch_stats([]) == {}
    annotated = annotate_batch_stats().get(pk=full.pk)
    assert stats_of(annotated) == stats[full.id] and annotated.stat_status == "processing"


@pytest.mark.sqlite
def test_batch_serializer_works_on_a_plain_batch(django_assert_num_queries):
    from candidates.serializers import BatchSerializer

    batch = make_batch([Stage.DONE])
    plain = Batch.objects.get(pk=batch.pk)
    with django_assert_num_queries(1):
        data = BatchSerializer(plain).data
    assert data["total_count"] == 1 and data["status"] == "completed"


@pytest.mark.sqlite
def test_batches_are_for_operators_only(api_client, make_user):
    assert api_client.get(URL).status_code == 401
    api_client.force_authenticate(make_user("plain@example.org"))
    assert api_client.get(URL).status_code == 403
