"""The optional online geocoder, Django side (imports-and-geo.md §6 step 5; P2): never inside a request, one request
per second across workers through the shared cache, hits and misses cached — against a local fake Nominatim."""

import os
import subprocess
import sys
import threading
import time
from itertools import pairwise
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from candidates.models import Candidate
from organizations import online
from organizations.models import GeoCache, Organization
from tests.organizations.conftest import make_candidate

pytestmark = pytest.mark.django_db
USER_AGENT = "cvengine-tests/1.0 (ops@example.org)"
PLACES = {
    "WESTMINSTER ABBEY": {"lat": "51.4993", "lon": "-0.1273", "display_name": "Westminster Abbey, London"},
    "HOGWARTS LANE": {"lat": "52.2000", "lon": "-1.5000", "display_name": "Hogwarts Lane, Warwickshire"},
}


@pytest.fixture
def nominatim(fake_http, settings, monkeypatch):
    """A fake Nominatim reached through NOMINATIM_DOMAIN/SCHEME; records query, user agent and time."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    calls = []

    def responder(request):
        query = {key: values[0] for key, values in parse_qs(urlsplit(request.path).query).items()}
        calls.append({"query": query, "agent": request.headers.get("User-Agent"), "at": time.monotonic()})
        place = PLACES.get(query.get("q", ""))
        return 200, {}, [place] if place else []

    server = fake_http(responder)
    settings.GEO_ONLINE_ENABLED = True
    settings.NOMINATIM_DOMAIN = server.url.removeprefix("http://")
    settings.NOMINATIM_SCHEME = "http"
    settings.NOMINATIM_USER_AGENT = USER_AGENT
    server.calls = calls
    return server


def test_lookup_through_custom_server_cached_hits_and_misses(nominatim):
    result = online.lookup_online("Westminster Abbey, UK")
    assert (result.latitude, result.longitude, result.precision) == (51.4993, -0.1273, "online")
    call = nominatim.calls[0]
    assert call["query"]["q"] == "WESTMINSTER ABBEY"
    assert call["query"]["countrycodes"] == "gb"
    assert call["agent"] == USER_AGENT
    assert online.lookup_online("westminster abbey") == result  # cached: no second request
    assert online.lookup_online("Nowhere Special") is None
    assert online.lookup_online("nowhere special") is None  # the miss is cached too
    assert len(nominatim.calls) == 2
    hit, miss = GeoCache.objects.get(query="WESTMINSTER ABBEY"), GeoCache.objects.get(query="NOWHERE SPECIAL")
    assert hit.found and not miss.found
    assert (hit.expires_at - hit.created_at).days >= 179 and (miss.expires_at - miss.created_at).days <= 7
    assert online.cached_lookup("Westminster Abbey").result == result


def test_one_request_per_second_across_workers(nominatim):
    """Three 'workers' (threads sharing only the cache lock) asking at once are served ≥ 1 s apart."""
    assert isinstance(online.rate_limiter(), online.CacheRateLimiter)  # the services profile shares Redis
    texts = ["Alpha Place", "Beta Place", "Gamma Place"]
    threads = [threading.Thread(target=online.lookup_online, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    times = sorted(call["at"] for call in nominatim.calls)
    assert len(times) == 3
    assert all(later - earlier >= 0.95 for earlier, later in pairwise(times)), times


@pytest.mark.sqlite
def test_file_lock_when_the_cache_is_per_process(settings, tmp_path):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.CVENGINE_HOME = tmp_path
    limiter = online.rate_limiter()
    assert limiter.path == Path(tmp_path) / "nominatim.lock"


def test_request_answers_422_and_the_worker_tries_online(
    operator_client, nominatim, eager_celery, django_capture_on_commit_callbacks
):
    candidate = make_candidate(location="Hogwarts Lane")
    url = f"/api/candidates/{candidate.pk}/nearby-organizations/"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = operator_client.get(url)
    assert response.status_code == 422 and response.json()["code"] == "location_not_geocodable"
    assert nominatim.calls == []  # nothing online inside the request
    assert len(callbacks) == 1
    callbacks[0]()  # the queued task, run now (eagerly) as a worker would
    assert len(nominatim.calls) == 1
    candidate.refresh_from_db()
    assert (float(candidate.latitude), candidate.geo_precision) == (52.2, "online")
    body = operator_client.get(url).json()
    assert body["candidate_geo_precision"] == "online" and body["candidate_lat"] == 52.2
    # a second failing request for the same text does not queue a second lookup
    other = make_candidate(location="Atlantis Street")
    with django_capture_on_commit_callbacks(execute=True):
        assert operator_client.get(f"/api/candidates/{other.pk}/nearby-contacts/").status_code == 422
    with django_capture_on_commit_callbacks(execute=True) as again:
        assert operator_client.get(f"/api/candidates/{other.pk}/nearby-contacts/").status_code == 422
    assert again == []


def test_near_uses_cached_online_answers(
    operator_client, nominatim, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            operator_client.get("/api/organizations/?near=Westminster Abbey&radius_km=5").status_code == 422
        )
    assert len(nominatim.calls) == 1
    response = operator_client.get("/api/organizations/?near=Westminster Abbey&radius_km=5")
    assert response.status_code == 200


def test_new_school_without_offline_match_is_placed_in_the_background(
    operator_client, nominatim, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(
            "/api/organizations/", {"name": "Lane School", "local_authority": "Warwickshire", "town": "Hogwarts Lane"},
            format="json",
        )  # fmt: skip
    assert response.status_code == 201 and response.json()["latitude"] is None
    school = Organization.objects.get(pk=response.json()["id"])
    assert (float(school.latitude), school.geocode_precision) == (52.2, "online")


def test_import_follows_up_online_in_one_task(
    operator_client, nominatim, eager_celery, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.core.imports import workbooks

    header = ["URN", "LocalAuthority", "OrganizationName", "Town"]
    data = workbooks.xlsx(
        {"S": [header, [1, "Warwickshire", "Lane School", "Hogwarts Lane"], [2, "X", "Y", "Nowhere"]]}
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(
            "/api/organizations/import/", {"file": SimpleUploadedFile("s.xlsx", data)}, format="multipart"
        )
    assert response.status_code == 202
    assert Organization.objects.get(urn="1").geocode_precision == "online"
    assert Organization.objects.get(urn="2").latitude is None
    assert len(nominatim.calls) == 2


def test_online_off_never_queues(operator_client, settings, django_capture_on_commit_callbacks):
    settings.GEO_ONLINE_ENABLED = False
    candidate = make_candidate(location="Hogwarts Lane")
    with django_capture_on_commit_callbacks() as callbacks:
        assert operator_client.get(f"/api/candidates/{candidate.pk}/nearby-organizations/").status_code == 422
    assert callbacks == []
    assert Candidate.objects.get(pk=candidate.pk).latitude is None


@pytest.mark.sqlite
def test_online_needs_a_user_agent():
    env = {**os.environ, "GEO_ONLINE_ENABLED": "true", "NOMINATIM_USER_AGENT": "", "DEBUG": "true"}
    result = subprocess.run(
        [sys.executable, "-c", "import cvengine.settings"],
        env=env, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2], timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "NOMINATIM_USER_AGENT" in result.stderr
