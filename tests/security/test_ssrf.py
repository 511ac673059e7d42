"""Server-side requests go only where they are meant to (reference-defects S4), beyond
tests/candidates/test_remote.py (photos only from AI_BASE_URL, pinned path), tests/ai_service/test_app.py
(cv_url allow-list, no userinfo, no redirects, size cap) and tests/core/rendering/test_safety.py (the PDF renderer
fetches nothing but its allow-list):

- the backend's photo fetch does not follow a redirect from the AI service host to anywhere else;
- the photo request never carries the service token to another host, and a link that only looks like the AI
  host (userinfo, other port, look-alike name) is refused before any request.
"""

import pytest

from candidates import photos, remote

TASK = "0b8f2d2e-0000-4000-8000-000000000000"


@pytest.fixture
def ai_host(settings, fake_http):
    """A fake AI service host and a second host that must never be contacted."""
    elsewhere = fake_http(lambda request: (200, {"Content-Type": "image/jpeg"}, b"\xff\xd8\xff" + bytes(100)))
    ai = fake_http(lambda request: (302, {"Location": f"{elsewhere.url}/photo.jpg"}, b""))
    settings.AI_BASE_URL, settings.AI_SERVICE_TOKEN = ai.url, "service-token-" + "t" * 20
    return ai, elsewhere


@pytest.mark.sqlite
def test_photo_redirects_from_the_ai_host_are_not_followed(ai_host):
    ai, elsewhere = ai_host
    with pytest.raises(photos.InvalidImage, match="HTTP 302"):
        remote.fetch_photo(f"{ai.url}/api/v1/tasks/{TASK}/photo", TASK)
    assert len(ai.requests) == 1 and elsewhere.requests == []


@pytest.mark.sqlite
def test_look_alike_photo_links_are_refused_before_any_request(ai_host):
    ai, elsewhere = ai_host
    port = ai.server.server_port
    for url in (
        f"http://user:pw@127.0.0.1:{port}/api/v1/tasks/{TASK}/photo",
        f"http://127.0.0.1.evil.example:{port}/api/v1/tasks/{TASK}/photo",
        f"{elsewhere.url}/api/v1/tasks/{TASK}/photo",
        f"{ai.url}/api/v1/tasks/{TASK}/../../../admin/photo",
        f"{ai.url}/api/v1/tasks/other-task/photo",
    ):
        with pytest.raises(photos.InvalidImage, match="not on the AI service host"):
            remote.fetch_photo(url, TASK)
    assert ai.requests == [] and elsewhere.requests == []
