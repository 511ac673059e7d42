"""The online fallback against a local fake Nominatim server (never the real service)."""

import json
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from urllib.parse import parse_qs, urlsplit

import pytest

from core.geo.errors import OnlineGeocoderError
from core.geo.nominatim import CachedLookup, FileRateLimiter, NominatimGeocoder, NominatimSettings
from core.geo.result import GeoResult

USER_AGENT = "cvengine-tests/1.0 (ops@example.org)"
PLACES = {
    "WESTMINSTER ABBEY": {"lat": "51.4993", "lon": "-0.1273", "display_name": "Westminster Abbey, London"}
}


class FakeNominatim(BaseHTTPRequestHandler):
    requests: list  # set per server

    def do_GET(self):
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        self.server.requests.append(
            {
                "path": url.path,
                "query": query,
                "agent": self.headers.get("User-Agent"),
                "at": time.monotonic(),
            }
        )
        if query.get("q") == "BROKEN":
            self.send_error(500)
            return
        place = PLACES.get(query.get("q", ""))
        body = json.dumps([place] if place else []).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def fake_server(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeNominatim)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(fake_server):
    host, port = fake_server.server_address
    return NominatimSettings(enabled=True, user_agent=USER_AGENT, domain=f"{host}:{port}", scheme="http")


class NoWait:
    def __init__(self):
        self.calls = 0

    def wait(self):
        self.calls += 1


def test_request_through_custom_domain_and_scheme(fake_server, settings):
    limiter = NoWait()
    result = NominatimGeocoder(settings, rate_limiter=limiter).geocode("Westminster Abbey, UK")
    assert result == GeoResult(51.4993, -0.1273, "online", "Westminster Abbey, London")
    (request,) = fake_server.requests
    assert request["path"] == "/search"
    assert request["query"]["countrycodes"] == "gb"
    assert request["query"]["q"] == "WESTMINSTER ABBEY"
    assert request["agent"] == USER_AGENT
    assert limiter.calls == 1


def test_results_and_misses_are_cached(fake_server, settings):
    store: dict = {}
    geocoder = NominatimGeocoder(
        settings,
        rate_limiter=NoWait(),
        cache_get=lambda key: CachedLookup(store[key]) if key in store else None,
        cache_set=store.__setitem__,
    )
    assert geocoder.geocode("Atlantis") is None
    assert geocoder.geocode("westminster abbey").precision == "online"
    assert len(fake_server.requests) == 2
    assert geocoder.geocode("ATLANTIS ") is None
    assert geocoder.geocode("Westminster  Abbey").matched == "Westminster Abbey, London"
    assert len(fake_server.requests) == 2  # both answered from the cache
    assert store == {"ATLANTIS": None, "WESTMINSTER ABBEY": geocoder.geocode("westminster abbey")}


def test_at_most_one_request_per_second_across_callers(fake_server, settings, tmp_path):
    lock_file = tmp_path / "nominatim.lock"
    # separate limiter objects open the lock file separately, as separate processes would
    geocoders = [NominatimGeocoder(settings, rate_limiter=FileRateLimiter(lock_file)) for _ in range(3)]
    threads = [
        threading.Thread(target=geocoder.geocode, args=(f"Place {i}",))
        for i, geocoder in enumerate(geocoders)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times = sorted(request["at"] for request in fake_server.requests)
    assert len(times) == 3
    assert all(later - earlier >= 0.95 for earlier, later in pairwise(times))


def test_file_rate_limiter_waits_out_the_interval(tmp_path):
    now = [1000.0]
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    limiter = FileRateLimiter(tmp_path / "lock", clock=lambda: now[0], sleep=sleep)
    limiter.wait()
    now[0] += 0.25
    limiter.wait()
    now[0] += 5
    limiter.wait()
    assert sleeps == [pytest.approx(0.75)]
    (tmp_path / "lock").write_text(str(now[0] + 3600))  # a stamp from a clock that has since gone back
    limiter.wait()
    assert sleeps[-1] == pytest.approx(1.0)
    (tmp_path / "lock").write_text("garbage")
    limiter.wait()
    assert len(sleeps) == 2


def test_service_failure_is_an_error_and_not_cached(fake_server, settings):
    store: dict = {}
    geocoder = NominatimGeocoder(settings, rate_limiter=NoWait(), cache_set=store.__setitem__)
    with pytest.raises(OnlineGeocoderError) as caught:
        geocoder.geocode("broken")
    assert caught.value.code == "online_geocoder_unavailable"
    assert store == {}


def test_unreachable_server_is_an_error(settings):
    unreachable = NominatimSettings(enabled=True, user_agent=USER_AGENT, domain="127.0.0.1:9", scheme="http")
    with pytest.raises(OnlineGeocoderError) as caught:
        NominatimGeocoder(unreachable, rate_limiter=NoWait()).geocode("Leeds")
    assert caught.value.code == "online_geocoder_unavailable"


def test_disabled_by_default(fake_server):
    geocoder = NominatimGeocoder(NominatimSettings(), rate_limiter=NoWait())
    with pytest.raises(OnlineGeocoderError) as caught:
        geocoder.geocode("Leeds")
    assert caught.value.code == "online_geocoding_disabled"
    assert fake_server.requests == []


def test_empty_text_sends_nothing(fake_server, settings):
    assert NominatimGeocoder(settings, rate_limiter=NoWait()).geocode("  , UK") is None
    assert fake_server.requests == []


@pytest.mark.parametrize(
    "changes",
    [
        {"user_agent": ""},
        {"user_agent": "geopy/2.5.0"},
        {"scheme": "ftp"},
        {"domain": "https://nominatim.example.org"},
        {"timeout_seconds": 0},
    ],
)
def test_misconfiguration_is_reported(changes):
    settings = replace(NominatimSettings(enabled=True, user_agent=USER_AGENT), **changes)
    with pytest.raises(OnlineGeocoderError) as caught:
        NominatimGeocoder(settings, rate_limiter=NoWait())
    assert caught.value.code == "online_geocoder_misconfigured"
