"""Remote analysis (AI_PROVIDER=remote): submit, poll, validate, photo — against a scripted AI service, and end
to end with the real AI service (uvicorn) and a real worker."""

import io
import json
import re
import time
import uuid

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from candidates import ingest, remote
from candidates.models import Batch, Candidate, Quality, Stage
from candidates.rewrite import RewriteInvalid
from core.extraction.offline import analyse_offline
from core.extraction.sanitise import CandidateFacts
from core.extraction.schema import validate_cv_data
from core.extraction.writer import london_today
from cvengine.celery import TransientError
from tests.ai_service.openai_fake import SAMPLE_CV_TEXT
from tests.candidates.factories import CandidateFactory, png_bytes, store

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "remote-test-token-" + "r" * 20


class FakeAIService:
    """A scripted AI service: ``tasks[id]`` is the status body; ``photo`` the image bytes it serves."""

    def __init__(self, fake_http):
        self.tasks: dict[str, dict] = {}
        self.photo: bytes | None = None
        self.submit_status = 202
        self.submit_headers: dict = {}
        self.rewrites: list[dict] = []
        self.rewrite_status: dict = {"status": "PENDING"}
        self.server = fake_http(self.respond)

    @property
    def url(self):
        return self.server.url

    @property
    def requests(self):
        return self.server.requests

    def respond(self, request):
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {"WWW-Authenticate": "Bearer"}, {"detail": "Not authenticated"}
        if request.method == "POST" and request.path == "/api/v1/rewrite":
            task_id = str(uuid.uuid4())
            self.rewrites.append(request.json())
            self.tasks[task_id] = self.rewrite_status
            return 202, {}, {"status": "processing", "task_id": task_id}
        if request.method == "POST" and request.path == "/api/v1/regeneration":
            task_id = str(uuid.uuid4())
            self.tasks.setdefault(task_id, {"status": "PENDING"})
            return self.submit_status, self.submit_headers, {"status": "processing", "task_id": task_id}
        photo = re.fullmatch(r"/api/v1/tasks/([\w-]+)/photo", request.path)
        if photo:
            return (
                (200, {"Content-Type": "image/jpeg"}, self.photo)
                if self.photo
                else (404, {}, {"detail": "x"})
            )
        status = re.fullmatch(r"/api/v1/tasks/([\w-]+)", request.path)
        if status:
            return 200, {}, self.tasks.get(status.group(1), {"status": "PENDING"})
        return 404, {}, {"detail": "Not Found"}


@pytest.fixture
def service(fake_http, settings):
    fake = FakeAIService(fake_http)
    settings.AI_PROVIDER = "remote"
    settings.AI_BASE_URL = fake.url
    settings.AI_SERVICE_TOKEN = TOKEN
    settings.AI_POLL_INTERVAL_SECONDS = 2
    settings.AI_POLL_MAX_WAIT_SECONDS = 60
    return fake


@pytest.fixture
def polls(monkeypatch):
    """Scheduled polls are recorded instead of sent (each test drives ``remote.poll`` itself)."""
    from candidates import remote_tasks

    scheduled = []
    monkeypatch.setattr(
        remote_tasks.poll_remote, "apply_async", lambda args, countdown: scheduled.append((args, countdown))
    )
    return scheduled


def analysing(text=SAMPLE_CV_TEXT, photo=False, hints=None) -> Candidate:
    batch = Batch.objects.create(
        uploaded_count=1, additional_info=hints or {"job_role": ["Teaching Assistant"]}
    )
    candidate = CandidateFactory(
        batch=batch,
        processing_stage=Stage.ANALYSING,
        extracted_text=text,
        file_type="txt",
        name="",
        name_without_surname="",
        email=None,
        quality_status=Quality.PENDING,
        original_filename="Jane Doe CV (private).txt",
    )
    candidate.original_file = store(
        f"candidates/original/{candidate.id}/{candidate.file_sha256}.txt", text.encode()
    )
    if photo:
        candidate.profile_photo = store(f"candidates/photos/{candidate.id}/{'c' * 64}.jpg", png_bytes())
    candidate.save()
    return candidate


def submitted(service, polls, candidate) -> tuple[str, float]:
    remote.send(candidate.id, candidate.run_id)
    candidate.refresh_from_db()
    (args, _countdown) = polls[-1]
    return args[2], args[3]


def offline_result(text=SAMPLE_CV_TEXT, **changes) -> dict:
    outcome = analyse_offline(text, has_photo=False, hints={}, today=london_today())
    return {**outcome.stored_result(job_role=["Teaching Assistant"]), **changes}


# --- submitting ----------------------------------------------------------------------------------------------


def test_submit_sends_the_file_with_the_token_and_stores_the_task_id_before_polling(
    service, polls, eager_celery
):
    candidate = analysing()
    remote.submit(candidate, {})  # queues submit_remote, which runs inline here
    candidate.refresh_from_db()
    (request,) = service.requests
    assert request.path == "/api/v1/regeneration" and request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    body = request.body
    assert SAMPLE_CV_TEXT.encode() in body and b'filename="cv.txt"' in body
    assert b"Jane Doe CV (private)" not in body  # the client's file name stays here
    assert json.dumps({"job_role": ["Teaching Assistant"]}).encode() in body
    assert candidate.ai_task_id and candidate.processing_stage == Stage.ANALYSING
    ((args, countdown),) = polls
    assert args[:3] == (str(candidate.id), str(candidate.run_id), candidate.ai_task_id)
    assert countdown == 2 and abs(args[3] - (time.time() + 60)) < 5

    remote.send(candidate.id, candidate.run_id)  # a re-delivered message: already submitted in this run
    assert len(service.requests) == 1 and len(polls) == 1


def test_busy_service_is_a_transient_error_honouring_retry_after(service, polls):
    service.submit_status, service.submit_headers = 503, {"Retry-After": "7"}
    candidate = analysing()
    with pytest.raises(TransientError) as caught:
        remote.send(candidate.id, candidate.run_id)
    assert caught.value.retry_after == 7.0
    candidate.refresh_from_db()
    assert candidate.ai_task_id == "" and polls == []


@pytest.mark.parametrize("code", [401, 413, 422])
def test_refused_submissions_fail_the_analysis(service, polls, settings, code):
    service.submit_status = code
    if code == 401:
        settings.AI_SERVICE_TOKEN = "wrong-token"
    candidate = analysing()
    remote.send(candidate.id, candidate.run_id)
    candidate.refresh_from_db()
    assert (candidate.processing_stage, candidate.failure_stage, candidate.failure_code) == (
        Stage.FAILED,
        Stage.ANALYSING,
        "ai_unavailable",
    )
    assert str(code) in candidate.ai_failure_reason and polls == []


# --- polling ---------------------------------------------------------------------------------------------------


def test_pending_tasks_are_polled_again_until_the_deadline_then_ai_timeout(service, polls):
    candidate = analysing()
    task_id, deadline = submitted(service, polls, candidate)
    remote.poll(candidate.id, candidate.run_id, task_id, deadline)
    assert len(polls) == 2 and polls[-1][0] == (str(candidate.id), str(candidate.run_id), task_id, deadline)
    service.tasks[task_id] = {"status": "STARTED"}
    remote.poll(candidate.id, candidate.run_id, task_id, time.time() - 1)
    candidate.refresh_from_db()
    assert (candidate.processing_stage, candidate.failure_code) == (Stage.FAILED, "ai_timeout")
    assert "60 s" in candidate.ai_failure_reason and len(polls) == 2


def test_failed_remote_tasks_keep_known_codes(service, polls):
    candidate = analysing()
    task_id, deadline = submitted(service, polls, candidate)
    service.tasks[task_id] = {"status": "failed", "error": "no_text_layer: Scanned or image-only document."}
    remote.poll(candidate.id, candidate.run_id, task_id, deadline)
    candidate.refresh_from_db()
    assert (candidate.failure_code, candidate.ai_failure_reason) == (
        "no_text_layer",
        "Scanned or image-only document.",
    )

    other = analysing()
    task_id, deadline = submitted(service, polls, other)
    service.tasks[task_id] = {"status": "failed", "error": "something odd happened"}
    remote.poll(other.id, other.run_id, task_id, deadline)
    other.refresh_from_db()
    assert (other.failure_code, other.ai_failure_reason) == ("ai_unavailable", "something odd happened")


def test_stale_polls_exit_quietly(service, polls):
    candidate = analysing()
    task_id, deadline = submitted(service, polls, candidate)
    before = len(service.requests)
    remote.poll(candidate.id, uuid.uuid4(), task_id, deadline)  # superseded run
    remote.poll(candidate.id, candidate.run_id, str(uuid.uuid4()), deadline)  # a previous submission
    assert len(service.requests) == before and len(polls) == 1
    candidate.refresh_from_db()
    assert candidate.processing_stage == Stage.ANALYSING


def test_completed_result_is_validated_grounded_and_completes_the_analysis(service, polls, eager_celery):
    candidate = analysing(photo=True)
    task_id, deadline = submitted(service, polls, candidate)
    result = offline_result()
    result["personal_info"]["whatsapp"] = "+44 7911 123456"  # not in the CV text: must be dropped
    result["quality_check"] = "pass"
    result["data_extracted"]["professional_profile"] = "Jane Doe can be reached at jane.doe@example.org."
    result["provider"] = "offline"
    service.tasks[task_id] = {"status": "completed", "result": result}
    remote.poll(candidate.id, candidate.run_id, task_id, deadline)
    candidate.refresh_from_db()
    assert candidate.processing_stage == Stage.DONE, (candidate.failure_code, candidate.ai_failure_reason)
    stored = candidate.ai_enhanced_cv_content
    assert stored["provider"] == "remote:offline" and stored["schema_version"] == 2
    assert stored["personal_info"]["whatsapp"] is None and "ungrounded_phone" in stored["warnings"]
    assert candidate.quality_status == Quality.MANUAL and "ungrounded_phone" in candidate.quality_reasons
    assert stored["data_extracted"]["professional_profile"] == "Jane can be reached at."
    assert (candidate.name, candidate.email) == ("Jane Doe", "jane.doe@example.org")
    assert stored["personal_info"]["job_role"] == ["Teaching Assistant"]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda r: r.pop("data_extracted"),
        lambda r: r.update(schema_version=1),
        lambda r: r.update(quality_check="excellent"),
        lambda r: r["data_extracted"].update(employment_history="lots"),
        lambda r: r.update(personal_info=["not", "an", "object"]),
    ],
    ids=["missing", "old-schema", "quality", "history-type", "personal-info"],
)
def test_schema_invalid_results_are_invalid_ai_output(service, polls, mutate):
    candidate = analysing()
    task_id, deadline = submitted(service, polls, candidate)
    result = offline_result()
    mutate(result)
    service.tasks[task_id] = {"status": "completed", "result": result}
    remote.poll(candidate.id, candidate.run_id, task_id, deadline)
    candidate.refresh_from_db()
    assert (candidate.processing_stage, candidate.failure_code) == (Stage.FAILED, "invalid_ai_output")


def test_oversized_fields_are_truncated_not_stored_raw(service, polls, eager_celery):
    candidate = analysing()
    task_id, deadline = submitted(service, polls, candidate)
    result = offline_result()
    result["data_extracted"]["professional_profile"] = "word " * 2000
    service.tasks[task_id] = {"status": "completed", "result": result}
    remote.poll(candidate.id, candidate.run_id, task_id, deadline)
    candidate.refresh_from_db()
    stored = candidate.ai_enhanced_cv_content
    assert len(stored["data_extracted"]["professional_profile"]) <= 2000
    assert "truncated_professional_profile" in stored["warnings"]


# --- the photo -------------------------------------------------------------------------------------------------


def jpeg_bytes(size=(240, 300)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


def complete_with_photo(service, polls, photo_url_for) -> Candidate:
    candidate = analysing()
    task_id, deadline = submitted(service, polls, candidate)
    result = offline_result(extracted_photo_url=photo_url_for(task_id))
    service.tasks[task_id] = {"status": "completed", "result": result}
    remote.poll(candidate.id, candidate.run_id, task_id, deadline)
    candidate.refresh_from_db()
    return candidate


def test_the_photo_is_fetched_from_the_ai_service_with_the_token(service, polls, eager_celery):
    service.photo = jpeg_bytes()
    candidate = complete_with_photo(service, polls, lambda task: f"{service.url}/api/v1/tasks/{task}/photo")
    assert candidate.processing_stage == Stage.DONE
    assert candidate.profile_photo.startswith(f"candidates/photos/{candidate.id}/")
    image = Image.open(io.BytesIO(default_storage.open(candidate.profile_photo).read()))
    assert image.format == "JPEG" and max(image.size) <= 600
    photo_request = [r for r in service.requests if r.path.endswith("/photo")]
    assert len(photo_request) == 1 and photo_request[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_photos_from_other_hosts_are_never_fetched(service, polls, eager_celery, fake_http):
    elsewhere = fake_http(lambda request: (200, {"Content-Type": "image/jpeg"}, jpeg_bytes()))
    service.photo = jpeg_bytes()
    candidate = complete_with_photo(service, polls, lambda task: f"{elsewhere.url}/api/v1/tasks/{task}/photo")
    assert candidate.processing_stage == Stage.DONE and candidate.profile_photo == ""
    assert elsewhere.requests == [] and not any(r.path.endswith("/photo") for r in service.requests)
    assert "photo_not_fetched" in candidate.ai_enhanced_cv_content["warnings"]


@pytest.mark.parametrize(
    "content",
    [b"<html>not an image</html>", b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024 + 10)],
    ids=["not-an-image", "over-5-mb"],
)
def test_bad_photos_are_refused_without_failing_the_analysis(service, polls, eager_celery, content):
    service.photo = content
    candidate = complete_with_photo(service, polls, lambda task: f"{service.url}/api/v1/tasks/{task}/photo")
    assert candidate.processing_stage == Stage.DONE and candidate.profile_photo == ""
    assert "photo_not_fetched" in candidate.ai_enhanced_cv_content["warnings"]


def test_photo_source_is_pinned_to_ai_base_url(settings):
    settings.AI_BASE_URL = "https://ai.internal:8443"
    task = "0b8f2d2e-0000-4000-8000-000000000000"
    good = f"https://ai.internal:8443/api/v1/tasks/{task}/photo"
    assert remote.photo_source(good, task) == good
    assert remote.photo_source(f"https://ai.internal:8443/api/v1/tasks/{task}/photo/", task) == good
    for bad in (
        f"https://ai.internal:9999/api/v1/tasks/{task}/photo",
        f"https://evil.example/api/v1/tasks/{task}/photo",
        f"https://user:pw@ai.internal:8443/api/v1/tasks/{task}/photo",
        "https://ai.internal:8443/api/v1/tasks/another-task/photo",
        f"https://ai.internal:8443/api/v1/tasks/{task}/photo?redirect=http://evil.example",
        "https://ai.internal:8443/etc/passwd",
    ):
        assert remote.photo_source(bad, task) is None, bad


# --- rewrite through the AI service ---------------------------------------------------------------------------


def cv_data():
    return validate_cv_data(offline_result()["data_extracted"])[0]


FACTS = CandidateFacts(given_name="Jane", full_name="Jane Doe", surname="Doe", email="jane.doe@example.org")


def test_remote_rewrite_is_polled_validated_and_sanitised(service):
    current = cv_data()
    answer = current.model_dump() | {
        "professional_profile": "Jane Doe is a **warm** teaching assistant (jane.doe@example.org).",
        "email_subject": "Teaching Assistant available 🙂",
    }
    service.rewrite_status = {
        "status": "completed",
        "result": {"status": "success", "data_extracted": answer},
    }
    rewritten, warnings = remote.rewrite_with_remote(current, "Warmer", FACTS)
    assert service.rewrites == [{"cv_data": current.model_dump(), "instruction": "Warmer"}]
    assert rewritten.professional_profile == "Jane is a warm teaching assistant."
    assert rewritten.email_subject == "Teaching Assistant available"
    assert rewritten.employment_history == current.employment_history and warnings == []


@pytest.mark.parametrize(
    ("rewrite_status", "message"),
    [
        ({"status": "failed", "error": "invalid_ai_output: the model refused"}, "the model refused"),
        ({"status": "completed", "result": {"data_extracted": {"name": 5}}}, "invalid rewrite"),
    ],
)
def test_remote_rewrite_failures_are_rewrite_invalid(service, rewrite_status, message):
    service.rewrite_status = rewrite_status
    with pytest.raises(RewriteInvalid, match=message):
        remote.rewrite_with_remote(cv_data(), None, FACTS)


def test_remote_rewrite_gives_up_after_the_budget(service, settings, monkeypatch):
    settings.AI_POLL_INTERVAL_SECONDS = 1
    monkeypatch.setattr(remote, "REWRITE_BUDGET_SECONDS", 1.5)
    with pytest.raises(RewriteInvalid, match="did not finish"):
        remote.rewrite_with_remote(cv_data(), None, FACTS)


def test_remote_rewrite_against_the_real_ai_service(ai_service, settings):
    settings.AI_BASE_URL, settings.AI_SERVICE_TOKEN = ai_service.url, ai_service.token
    current = cv_data()
    rewritten, warnings = remote.rewrite_with_remote(current, "Shorter", FACTS)
    assert "instruction_ignored" in warnings  # the service runs offline: instructions cannot be followed
    assert [(j.date_range, j.company, j.role) for j in rewritten.employment_history] == [
        (j.date_range, j.company, j.role) for j in current.employment_history
    ]


# --- end to end: the real AI service and a real worker ---------------------------------------------------------


@pytest.mark.worker
def test_remote_pipeline_with_the_real_ai_service_and_a_real_worker(remote_worker, ai_service):
    text = SAMPLE_CV_TEXT + f"\nReference number: {uuid.uuid4().hex}\n"
    result = ingest.ingest(
        [SimpleUploadedFile("jane.txt", text.encode())], {"job_role": ["Teaching Assistant"]}, None
    )
    candidate_id = result.outcomes[0].candidate_id
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        candidate = Candidate.objects.get(id=candidate_id)
        if candidate.processing_stage in (Stage.DONE, Stage.FAILED):
            break
        time.sleep(0.25)
    assert candidate.processing_stage == Stage.DONE, (
        candidate.processing_stage,
        candidate.failure_code,
        candidate.ai_failure_reason,
        remote_worker.log_path.read_text()[-3000:],
    )
    assert re.fullmatch(r"[0-9a-f-]{36}", candidate.ai_task_id)
    stored = candidate.ai_enhanced_cv_content
    assert stored["provider"] == "remote:offline" and stored["personal_info"]["job_role"] == [
        "Teaching Assistant"
    ]
    assert (candidate.name, candidate.name_without_surname) == ("Jane Doe", "Jane")
    assert candidate.email == "jane.doe@example.org" and candidate.enhanced_cv
    assert "queued" in ai_service.log() or ai_service.proc.poll() is None
