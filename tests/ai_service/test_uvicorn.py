"""The AI service as deployed: uvicorn in its own process, configured from the environment only."""

import time

import httpx
import pytest

from tests.ai_service.openai_fake import SAMPLE_CV_TEXT
from tests.ai_service.server import start_ai_service

pytestmark = pytest.mark.sqlite


@pytest.fixture(scope="module")
def service():
    running = start_ai_service(
        {"AI_SERVICE_NAME": "cv-ai-e2e", "AI_SERVICE_WORKERS": "1", "LOG_LEVEL": "INFO"}
    )
    yield running
    running.stop()


def test_end_to_end_over_real_http(service):
    with httpx.Client(base_url=service.url, timeout=30) as client:
        assert client.get("/health").json() == {"status": "healthy", "service": "cv-ai-e2e"}
        assert client.get("/api/v1/tasks/x").status_code == 401
        auth = {"Authorization": f"Bearer {service.token}"}
        response = client.post(
            "/api/v1/regeneration/",
            headers=auth,
            files={"file": ("cv.txt", SAMPLE_CV_TEXT.encode(), "text/plain")},
            data={"additional_info": '{"job_role": ["Teaching Assistant"]}'},
        )
        assert response.status_code == 202, response.text
        task_id = response.json()["task_id"]
        deadline = time.monotonic() + 60
        while (body := client.get(f"/api/v1/tasks/{task_id}", headers=auth).json())["status"] not in (
            "completed",
            "failed",
        ):
            assert time.monotonic() < deadline, body
            time.sleep(0.2)
        assert body["status"] == "completed", body
        assert body["result"]["personal_info"]["full_name"] == "Jane Doe"
        assert body["result"]["personal_info"]["job_role"] == ["Teaching Assistant"]
        assert client.get("/docs").status_code == 404
    log = service.log()
    assert "queued" in log and "Regeneration done: type=txt provider=offline" in log
    assert "jane" not in log.lower() and "07700" not in log and "example.org" not in log


def test_the_service_refuses_to_start_without_a_token():
    running = start_ai_service({"AI_SERVICE_TOKEN": ""}, wait=False)
    try:
        assert running.proc.wait(timeout=30) != 0
        assert "AI_SERVICE_TOKEN must be set" in running.log()
    finally:
        running.stop()
