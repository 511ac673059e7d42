"""C1 candidate list: envelope, item shape, every filter, validation, ordering, query count, indexed search."""

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from candidates.models import Candidate, Quality, Source, Stage
from tests.candidates.conftest import download
from tests.candidates.factories import BatchFactory, CandidateFactory, png_bytes, store

pytestmark = pytest.mark.django_db
URL = "/api/candidates/"
LONDON = ZoneInfo("Europe/London")


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["results"]]


@pytest.mark.sqlite
def test_list_item_shape_and_envelope(operator_client):
    batch = BatchFactory()
    candidate = CandidateFactory(
        name="Sarah Jones",
        name_without_surname="Sarah",
        email="sarah@example.org",
        whatsapp_number="+447700900123",
        years_of_experience=Decimal("3.5"),
        batch=batch,
    )
    body = operator_client.get(URL).json()
    assert body["pagination"]["total"] == 1 and body["pagination"]["page"] == 1
    item = body["results"][0]
    assert set(item) == {
        "id",
        "name",
        "name_without_surname",
        "email",
        "whatsapp_number",
        "location",
        "years_of_experience",
        "skills",
        "job_titles",
        "profile_photo_url",
        "source",
        "availability_status",
        "quality_status",
        "ai_processing_status",
        "created_at",
        "batch",
        "processing_stage",
    }
    assert item["id"] == str(candidate.id) and item["batch"] == str(batch.id)
    assert item["years_of_experience"] == "3.5"  # stored decimals are strings
    assert item["skills"] == ["Phonics", "SEND support"] and item["job_titles"] == ["Teaching Assistant"]
    assert item["ai_processing_status"] == "completed" and item["processing_stage"] == "done"
    assert item["profile_photo_url"] is None
    created = datetime.fromisoformat(item["created_at"].replace("Z", "+00:00"))
    assert created.utcoffset() == candidate.created_at.astimezone(LONDON).utcoffset()
    assert "extracted_text" not in item and "search_text" not in item


@pytest.mark.sqlite
def test_default_order_is_newest_first(operator_client):
    first, second = CandidateFactory(name="Older"), CandidateFactory(name="Newer")
    Candidate.objects.filter(pk=first.pk).update(created_at=second.created_at - timedelta(hours=1))
    assert names(operator_client.get(URL)) == ["Newer", "Older"]


@pytest.mark.sqlite
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"quality_status": "failed"}, ["Bea"]),
        ({"availability_status": "open_to_offers"}, ["Bea"]),
        ({"source": "crm"}, ["Cal"]),
        ({"processing_stage": "analysing"}, ["Cal"]),
        ({"ai_processing_status": "in_progress"}, ["Cal"]),
        ({"ai_processing_status": "completed"}, ["Abi"]),
        ({"ai_processing_status": "failed"}, ["Bea"]),
        ({"ai_processing_status": "not_started"}, ["Dee"]),
        ({"name": "BE"}, ["Bea"]),
        ({"name_without_surname": "ab"}, ["Abi"]),
        ({"email": "CAL@"}, ["Cal"]),
        ({"whatsapp_number": "900"}, ["Abi"]),
        ({"location": "york"}, ["Bea"]),
        ({"years_min": "5"}, ["Bea", "Cal"]),
        ({"years_max": "5"}, ["Abi", "Cal"]),
        ({"years_min": "0", "years_max": "0.5"}, ["Abi"]),
        ({"quality_status": "passed", "source": "crm"}, ["Cal"]),
    ],
)
def test_filters(operator_client, params, expected):
    CandidateFactory(
        name="Abi Adams",
        email="abi@example.org",
        whatsapp_number="07700 900001",
        years_of_experience=Decimal("0.0"),
    )
    CandidateFactory(
        name="Bea Brown",
        email="bea@example.org",
        location="York",
        quality_status=Quality.FAILED,
        availability_status="open_to_offers",
        processing_stage=Stage.FAILED,
        years_of_experience=Decimal("12.0"),
    )
    CandidateFactory(
        name="Cal Cole",
        email="cal@example.org",
        source=Source.CRM,
        processing_stage=Stage.ANALYSING,
        years_of_experience=Decimal("5.0"),
    )
    CandidateFactory(
        name="Dee Null",
        email="dee@example.org",
        years_of_experience=None,
        quality_status="manual",
        processing_stage=Stage.QUEUED,
    )
    got = names(operator_client.get(URL, {**params, "ordering": "name"}))
    assert [n.split()[0] for n in got] == expected


@pytest.mark.sqlite
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"quality_status": "great"}, "quality_status"),
        ({"availability_status": "busy"}, "availability_status"),
        ({"source": "linkedin"}, "source"),
        ({"processing_stage": "done-ish"}, "processing_stage"),
        ({"ai_processing_status": "complete"}, "ai_processing_status"),
        ({"years_min": "-1"}, "years_min"),
        ({"years_max": "61"}, "years_max"),
        ({"years_min": "abc"}, "years_min"),
        ({"years_max": "NaN"}, "years_max"),
        ({"batch": "not-a-uuid"}, "batch"),
        ({"ordering": "email"}, "ordering"),
        ({"ordering": "-salary"}, "ordering"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_before": "2025-13-01"}, "created_before"),
        ({"skills": "x" * 101}, "skills"),
        ({"search": "s" * 201}, "search"),
    ],
)
def test_invalid_filters_are_400_naming_the_field(operator_client, params, field):
    response = operator_client.get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field] and isinstance(body[field], list) and body[field][0]


@pytest.mark.sqlite
def test_skills_and_job_titles_match_elements_case_insensitively_and_repeat_as_and(operator_client):
    CandidateFactory(name="Abi", skills=["Phonics", "EYFS"], job_titles=["Teaching Assistant"])
    CandidateFactory(name="Bea", skills=["Team Teach", "phonics screening"], job_titles=["Class Teacher"])
    CandidateFactory(name="Cal", skills=["Maths"], job_titles=["Cover Supervisor", "HLTA"])
    CandidateFactory(name="Dee", skills=[], job_titles=[])

    def get(query):
        return names(operator_client.get(f"{URL}?ordering=name&{query}"))

    assert get("skills=PHONICS") == ["Abi", "Bea"]
    assert get("skills=phonics&skills=teach") == ["Bea"]
    assert get("skills=eyfs&skills=maths") == []
    assert get("job_titles=teach") == ["Abi", "Bea"]
    assert get("job_titles=hlta&skills=maths") == ["Cal"]
    # an element match, never a match across two elements or on the JSON text
    assert get("skills=eyfs%22%2C") == [] and get("skills=phonics, eyfs") == []
    assert get("skills=%25") == [] and get("skills=_") == []  # LIKE wildcards are literal


@pytest.mark.sqlite
def test_search_covers_every_searchable_field(operator_client):
    CandidateFactory(
        name="Sarah Jones",
        name_without_surname="Sarah",
        email="sj@school.org.uk",
        whatsapp_number="+44 7700 900123",
        location="Harrogate",
        skills=["British Sign Language"],
        job_titles=["SENCO"],
    )
    CandidateFactory(
        name="Other Person", email="other@example.org", location="Leeds", skills=[], job_titles=[]
    )
    for term in ("JONES", "sarah", "sj@school", "7700 900123", "447700900123", "harro", "sign lang", "senco"):
        assert names(operator_client.get(URL, {"search": term})) == ["Sarah Jones"], term
    assert names(operator_client.get(URL, {"search": "  sarah   jones "})) == ["Sarah Jones"]
    assert names(operator_client.get(URL, {"search": "nobody"})) == []
    assert names(operator_client.get(URL, {"search": "sarah\nharrogate"})) == []  # never across two fields


@pytest.mark.sqlite
def test_batch_filter_and_created_range(operator_client):
    batch = BatchFactory()
    in_batch = CandidateFactory(name="In Batch", batch=batch)
    other = CandidateFactory(name="Elsewhere")
    assert names(operator_client.get(URL, {"batch": str(batch.id)})) == ["In Batch"]
    assert names(operator_client.get(URL, {"batch": str(uuid.uuid4())})) == []
    # 2025-06-01 00:30 in London (BST) is still 31 May in UTC: dates are London days.
    Candidate.objects.filter(pk=in_batch.pk).update(created_at=datetime(2025, 6, 1, 0, 30, tzinfo=LONDON))
    Candidate.objects.filter(pk=other.pk).update(created_at=datetime(2025, 5, 31, 23, 30, tzinfo=LONDON))
    assert names(operator_client.get(URL, {"created_after": "2025-06-01"})) == ["In Batch"]
    assert names(operator_client.get(URL, {"created_before": "2025-05-31"})) == ["Elsewhere"]
    assert names(
        operator_client.get(URL, {"created_after": "2025-05-31", "created_before": "2025-06-01"})
    ) == [
        "In Batch",
        "Elsewhere",
    ]
    assert names(operator_client.get(URL, {"created_after": "2025-05-31T23:00:00Z"})) == ["In Batch"]


@pytest.mark.sqlite
@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("name", ["Abi", "Bea", "Cal"]),
        ("-name", ["Cal", "Bea", "Abi"]),
        ("years_of_experience", ["Bea", "Abi", "Cal"]),  # no value sorts last either way
        ("-years_of_experience", ["Abi", "Bea", "Cal"]),
        ("created_at", ["Abi", "Bea", "Cal"]),
        ("-created_at", ["Cal", "Bea", "Abi"]),
    ],
)
def test_ordering(operator_client, ordering, expected):
    base = CandidateFactory(name="Abi", years_of_experience=Decimal("9.0")).created_at
    bea = CandidateFactory(name="Bea", years_of_experience=Decimal("1.0"))
    cal = CandidateFactory(name="Cal", years_of_experience=None)
    Candidate.objects.filter(pk=bea.pk).update(created_at=base + timedelta(minutes=1))
    Candidate.objects.filter(pk=cal.pk).update(created_at=base + timedelta(minutes=2))
    assert names(operator_client.get(URL, {"ordering": ordering})) == expected


def test_page_of_20_with_photos_needs_two_queries_and_links_download(
    operator_client, django_assert_max_num_queries
):
    photo = png_bytes()
    for i in range(25):
        candidate = CandidateFactory(name=f"Person {i:02d}")
        if i % 2 == 0:
            key = store(f"candidates/photos/{candidate.id}/{'d' * 64}.jpg", photo)
            Candidate.objects.filter(pk=candidate.pk).update(profile_photo=key)
    with django_assert_max_num_queries(2):  # count + page; photo links are signed without queries
        body = operator_client.get(URL, {"ordering": "name"}).json()
    assert len(body["results"]) == 20 and body["pagination"]["total"] == 25
    first = body["results"][0]
    assert first["name"] == "Person 00" and first["profile_photo_url"]
    assert body["results"][1]["profile_photo_url"] is None
    content, _ = download(operator_client, first["profile_photo_url"])
    assert content == photo


@pytest.mark.sqlite
def test_local_photo_links_download(operator_client):
    candidate = CandidateFactory()
    key = store(f"candidates/photos/{candidate.id}/{'e' * 64}.jpg", b"jpeg-bytes")
    Candidate.objects.filter(pk=candidate.pk).update(profile_photo=key)
    url = operator_client.get(URL).json()["results"][0]["profile_photo_url"]
    assert download(operator_client, url)[0] == b"jpeg-bytes"


def test_search_and_element_filters_use_the_trigram_index(operator_client):
    if connection.vendor != "postgresql":
        pytest.skip("trigram index exists on PostgreSQL only")
    CandidateFactory.create_batch(5)
    from candidates.selectors import CandidateFilter, candidate_list_queryset

    for params in ({"search": "sarah"}, {"skills": ["phonics"]}):
        queryset = CandidateFilter(params, queryset=candidate_list_queryset()).qs
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.order_by().explain()
        assert "candidate_search_trgm" in plan, plan


@pytest.mark.sqlite
def test_operators_only(api_client, make_user):
    assert api_client.get(URL).status_code == 401
    api_client.force_authenticate(make_user("someone@example.org"))
    response = api_client.get(URL)
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}
