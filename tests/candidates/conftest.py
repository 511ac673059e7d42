"""Fixtures shared by the candidates tests.

AI providers with a real worker: a worker reads its settings from the environment when it starts, so the
``llm_worker`` and ``remote_worker`` fixtures start their own worker process (``start_celery_worker``) with the
provider's settings, exclusive while they run (other test workers pause consuming).
"""

import uuid

import pytest

from tests.ai_service.openai_fake import FakeOpenAI
from tests.ai_service.server import start_ai_service
from tests.conftest import start_celery_worker
from tests.fakes import FakeHTTPServer

REMOTE_TASKS = ("candidates.remote_tasks",)  # until candidates/tasks.py imports it, the worker includes it


@pytest.fixture(scope="module")
def fake_llm():
    """A scripted OpenAI-compatible server that outlives single tests (workers are told its URL at start-up).

    Tests set ``fake_llm.default`` / ``fake_llm.script`` and read ``fake_llm.calls``; both are reset per test.
    """
    fake = FakeOpenAI(FakeHTTPServer)
    yield fake
    fake.server.close()


@pytest.fixture
def llm_server(fake_llm):
    fake_llm.script.clear()
    fake_llm.calls.clear()
    fake_llm.problems.clear()
    fake_llm.default = None
    yield fake_llm
    assert fake_llm.problems == []


@pytest.fixture(scope="module")
def llm_worker(django_db_setup, django_db_blocker, fake_llm):
    """A real worker with ``AI_PROVIDER=llm`` against ``fake_llm``."""
    worker = start_celery_worker(
        {
            "AI_PROVIDER": "llm",
            "OPENAI_BASE_URL": fake_llm.base_url,
            "OPENAI_API_KEY": "test-key",
            "AI_MODEL": fake_llm.model,
            "AI_RATE_LIMIT": "1000",
        },
        name="llm",
        include=REMOTE_TASKS,
        exclusive=True,
    )
    yield worker
    worker.stop()


@pytest.fixture(scope="module")
def ai_service():
    """The real AI service (uvicorn subprocess) in offline mode."""
    service = start_ai_service({"AI_SERVICE_NAME": "cv-ai-remote-test", "AI_SERVICE_WORKERS": "2"})
    yield service
    service.stop()


@pytest.fixture(scope="module")
def remote_worker(django_db_setup, django_db_blocker, ai_service):
    """A real worker with ``AI_PROVIDER=remote`` against ``ai_service``, polling every second."""
    worker = start_celery_worker(
        {
            "AI_PROVIDER": "remote",
            "AI_BASE_URL": ai_service.url,
            "AI_SERVICE_TOKEN": ai_service.token,
            "AI_POLL_INTERVAL_SECONDS": "1",
            "AI_POLL_MAX_WAIT_SECONDS": "120",
        },
        name="remote",
        include=REMOTE_TASKS,
        exclusive=True,
    )
    yield worker
    worker.stop()


@pytest.fixture
def unique_cv_text():
    """The sample CV with a unique reference line, so cached LLM answers of other runs never apply."""
    from tests.ai_service.openai_fake import SAMPLE_CV_TEXT

    return SAMPLE_CV_TEXT + f"\nReference number: {uuid.uuid4().hex}\n"


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
