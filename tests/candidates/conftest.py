"""Fixtures shared by the candidates tests."""

import pytest


def download(client, url: str) -> tuple[bytes, str]:
    """Fetch a signed file link: S3 presigned URLs over HTTP, local /api/files/ links through the test client.

    Returns (content, Content-Disposition).
    """
    import urllib.request

    local_prefix = "http://testserver"
    if url.startswith(local_prefix):
        response = client.get(url.removeprefix(local_prefix))
        assert response.status_code == 200, response.content
        return b"".join(response.streaming_content), response["Content-Disposition"]
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(), response.headers.get("Content-Disposition", "")


class PipelineCalls:
    """What a candidate edit asked of the pipeline (regeneration, re-geocoding), recorded instead of done."""

    def __init__(self):
        self.regenerations: list = []
        self.locations: list = []
        self.regenerate = False  # what queue_regeneration answers

    def queue_regeneration(self, candidate, rewrite_task_id=None) -> bool:
        self.regenerations.append(candidate.pk)
        if self.regenerate:
            candidate.pending_render_hash = "f" * 64
            type(candidate).objects.filter(pk=candidate.pk).update(
                pending_render_hash=candidate.pending_render_hash
            )
        return self.regenerate

    def locate_candidate(self, candidate, save: bool = True) -> dict:
        self.locations.append((candidate.pk, candidate.location, candidate.postcode))
        return {}


@pytest.fixture
def pipeline_calls(monkeypatch):
    calls = PipelineCalls()
    monkeypatch.setattr("candidates.pipeline.queue_regeneration", calls.queue_regeneration)
    monkeypatch.setattr("candidates.geo.locate_candidate", calls.locate_candidate)
    return calls
