import pytest
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny

from cvengine.api import APIError, EnvelopePagination
from cvengine.urls import urlpatterns as project_urls

ITEMS = [{"n": i} for i in range(45)]


@api_view(["GET"])
@permission_classes([AllowAny])
def numbers(request):
    paginator = EnvelopePagination()
    page = paginator.paginate_queryset(ITEMS, request)
    return paginator.get_paginated_response(page, extra_key="kept")


@api_view(["POST"])
@permission_classes([AllowAny])
def failing(request):
    kind = request.data.get("kind")
    if kind == "fields":
        raise ValidationError({"email": ["Enter a valid email address."]})
    raise APIError("Candidate has no enhanced CV yet.", "cv_not_ready", status_code=409, extra=1)


urlpatterns = [*project_urls, path("t/numbers/", numbers), path("t/failing/", failing)]
pytestmark = [pytest.mark.urls(__name__), pytest.mark.sqlite]


def test_envelope_defaults_and_links(client):
    body = client.get("/t/numbers/").json()
    assert body["extra_key"] == "kept"
    assert len(body["results"]) == 20
    assert body["pagination"] == {
        "total": 45,
        "page": 1,
        "page_size": 20,
        "total_pages": 3,
        "has_next": True,
        "has_previous": False,
        "next": "http://testserver/t/numbers/?page=2",
        "previous": None,
    }


@pytest.mark.parametrize(("size", "expected"), [("0", 20), ("abc", 20), ("-5", 20), ("7", 7), ("1000", 100)])
def test_page_size_rules(client, size, expected):
    assert client.get(f"/t/numbers/?page_size={size}").json()["pagination"]["page_size"] == expected


@pytest.mark.parametrize("page", ["0", "x", "99", "-1"])
def test_invalid_page_is_404(client, page):
    response = client.get(f"/t/numbers/?page={page}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_last_page(client):
    body = client.get("/t/numbers/?page=3").json()
    assert [r["n"] for r in body["results"]] == list(range(40, 45))
    assert body["pagination"]["has_next"] is False and body["pagination"]["previous"].endswith("page=2")


def test_error_formats(client):
    response = client.post("/t/failing/", {"kind": "fields"}, content_type="application/json")
    assert response.status_code == 400 and response.json() == {"email": ["Enter a valid email address."]}
    response = client.post("/t/failing/", {}, content_type="application/json")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Candidate has no enhanced CV yet.",
        "code": "cv_not_ready",
        "extra": 1,
    }


def test_slashless_get_redirects_301_and_post_308(client):
    response = client.get("/t/numbers?page=2")
    assert response.status_code == 301 and response["Location"] == "/t/numbers/?page=2"
    response = client.post("/t/failing", {}, content_type="application/json")
    assert response.status_code == 308 and response["Location"] == "/t/failing/"


def test_unknown_path_is_404_not_redirect(client):
    assert client.get("/api/nothing-here").status_code == 404
