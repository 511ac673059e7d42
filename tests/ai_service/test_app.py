"""The AI service contract (api.md §6) with FastAPI's TestClient; its worker pool and cv_url fetches are real."""

import io
import json
import time

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from ai_service.app import create_app
from ai_service.config import ConfigError, ServiceConfig
from core.extraction.llm import LLMConfig, reset_process_state
from tests.ai_service.openai_fake import SAMPLE_CV_TEXT, FakeOpenAI, good_answer, reply
from tests.cvgen.layouts import LAYOUTS
from tests.cvgen.render_samples import sample_profile
from tests.fakes import FakeHTTPServer

pytestmark = pytest.mark.sqlite
TOKEN = "service-token-" + "s" * 24
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def files():
    """A local file server standing in for object storage (the only host cv_url may point at)."""
    content = {"/cv.txt": SAMPLE_CV_TEXT.encode(), "/big.txt": b"a" * (10 * MiB + 1)}

    def respond(request):
        if request.path == "/redirect":
            return 302, {"Location": "/cv.txt"}, b""
        if request.path == "/chunked-big":
            return 200, {}, b"b" * (10 * MiB + 10)
        if request.path in content:
            return 200, {"Content-Type": "text/plain"}, content[request.path]
        return 404, {}, b"missing"

    server = FakeHTTPServer(respond)
    yield server
    server.close()


def make_config(files_server=None, **overrides) -> ServiceConfig:
    allowed = (f"127.0.0.1:{files_server.server.server_port}",) if files_server else ()
    values = {"token": TOKEN, "service_name": "cv-ai-test", "fetch_allowed_hosts": allowed, "workers": 2}
    return ServiceConfig(**{**values, **overrides})


@pytest.fixture(scope="module")
def client(files):
    with TestClient(create_app(make_config(files))) as test_client:
        yield test_client


def wait_for_task(client, task_id, timeout=60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/tasks/{task_id}", headers=AUTH).json()
        if body["status"] in ("completed", "failed"):
            return body
        assert body["status"] in ("PENDING", "STARTED")
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} did not finish")


def upload(client, content: bytes, info=None, name="cv.txt", **extra):
    data = {"additional_info": json.dumps(info)} if info is not None else {}
    return client.post(
        "/api/v1/regeneration", headers=AUTH, files={"file": (name, content)}, data={**data, **extra}
    )


# --- health, auth, paths, CORS, docs ----------------------------------------------------------------------------


def test_health_is_public(client):
    for path in ("/health", "/health/"):
        response = client.get(path, headers={"Authorization": "Bearer wrong"})
        assert response.status_code == 200
        assert response.json() == {"status": "healthy", "service": "cv-ai-test"}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}, {"Authorization": TOKEN}],
    ids=["missing", "wrong", "basic", "no-scheme"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/tasks/x"), ("get", "/api/v1/tasks/x/photo"), ("post", "/api/v1/regeneration"),
     ("post", "/api/v1/rewrite/")],
)  # fmt: skip
def test_api_needs_the_bearer_token(client, headers, method, path):
    response = getattr(client, method)(path, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == "Bearer"


def test_paths_answer_with_and_without_trailing_slash_without_redirect(client):
    for path in ("/api/v1/tasks/abc", "/api/v1/tasks/abc/"):
        response = client.get(path, headers=AUTH, follow_redirects=False)
        assert response.status_code == 200 and response.json() == {"status": "PENDING"}
    response = client.post("/api/v1/regeneration/", headers=AUTH, files={"file": ("cv.txt", SAMPLE_CV_TEXT)})
    assert response.status_code == 202


def test_no_cors(client):
    preflight = client.options(
        "/api/v1/regeneration",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    response = client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


def test_docs_are_off_unless_enabled(client, files):
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 404
    with TestClient(create_app(make_config(files, docs_enabled=True, executor="thread"))) as docs_client:
        schema = docs_client.get("/openapi.json").json()
        assert docs_client.get("/docs").status_code == 200
    assert "/api/v1/regeneration" in schema["paths"] and "/api/v1/regeneration/" not in schema["paths"]
    content = schema["paths"]["/api/v1/regeneration"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(content)
    assert "$ref" not in json.dumps(content) and "current_location" in json.dumps(content)


# --- regeneration -------------------------------------------------------------------------------------------------


def test_multipart_regeneration_completes_with_the_stored_result_shape(client):
    response = upload(client, SAMPLE_CV_TEXT.encode(), {"job_role": ["Teaching Assistant"], "experience": 5})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "processing"
    assert body["message"] == "CV queued for regeneration. Poll /tasks/{task_id} for results."
    done = wait_for_task(client, body["task_id"])
    assert done["status"] == "completed", done
    result = done["result"]
    assert result["status"] == "success" and result["message"] == "CV analysis completed."
    assert result["quality_check"] in ("pass", "fail", "manual review")
    assert result["extracted_photo_url"] is None
    assert result["provider"] == "offline" and result["schema_version"] == 2
    assert result["personal_info"]["email"] == "jane.doe@example.org"
    assert result["personal_info"]["job_role"] == ["Teaching Assistant"]
    assert {"data_extracted", "quality_reasons", "warnings", "model"} <= set(result)
    assert client.get(f"/api/v1/tasks/{body['task_id']}/photo", headers=AUTH).status_code == 404


def test_photo_is_served_only_with_the_token_from_this_service(client, tmp_path):
    path = LAYOUTS["docx_table"](sample_profile(has_photo=True), tmp_path / "cv")
    response = upload(client, path.read_bytes(), name="cv.docx")
    task_id = response.json()["task_id"]
    result = wait_for_task(client, task_id)["result"]
    assert result["extracted_photo_url"] == f"http://testserver/api/v1/tasks/{task_id}/photo"
    photo = client.get(f"/api/v1/tasks/{task_id}/photo/", headers=AUTH)
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["cache-control"] == "no-store"
    assert Image.open(io.BytesIO(photo.content)).format == "JPEG"
    assert client.get(f"/api/v1/tasks/{task_id}/photo").status_code == 401


def test_cv_url_on_an_allowed_host_is_fetched(client, files):
    response = client.post(
        "/api/v1/regeneration",
        headers=AUTH,
        json={"id": 7, "cv_url": f"{files.url}/cv.txt", "additional_info": {"skills": ["Phonics"]}},
    )
    assert response.status_code == 202, response.text
    result = wait_for_task(client, response.json()["task_id"])["result"]
    assert "Phonics" in result["personal_info"]["skill"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://127.0.0.1/cv.txt", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("http://169.254.169.254/latest/meta-data/", "not allowed"),
        ("http://localhost:{port}/cv.txt", "not allowed"),  # same machine, other name: compared, not resolved
        ("http://127.0.0.1:1/cv.txt", "not allowed"),  # same host, other port
        ("http://user:pw@127.0.0.1:{port}/cv.txt", "credentials"),
        ("http://127.0.0.1:{port}/redirect", "redirects"),
        ("http://127.0.0.1:{port}/missing", "HTTP 404"),
    ],
)
def test_cv_url_rules_answer_422_on_body_cv_url(client, files, url, message):
    url = url.format(port=files.server.server_port)
    before = len(files.requests)
    response = client.post("/api/v1/regeneration", headers=AUTH, json={"cv_url": url})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "cv_url"] and message in error["msg"]
    if message in ("not allowed", "http or https", "credentials"):
        assert len(files.requests) == before  # refused before any request


@pytest.mark.parametrize("path", ["/big.txt", "/chunked-big"])
def test_cv_url_bodies_over_10_mb_are_413(client, files, path):
    response = client.post("/api/v1/regeneration", headers=AUTH, json={"cv_url": f"{files.url}{path}"})
    assert response.status_code == 413


def test_uploads_over_10_mb_are_413(client):
    response = upload(client, b"a" * (10 * MiB + 1))
    assert response.status_code == 413


def test_streamed_bodies_without_content_length_are_cut_at_the_cap(client):
    def chunks():
        yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="cv.txt"\r\n\r\n'
        for _ in range(12):
            yield b"a" * MiB

    headers = {**AUTH, "Content-Type": "multipart/form-data; boundary=x"}
    response = client.post("/api/v1/regeneration", headers=headers, content=chunks())
    assert response.status_code == 413


def test_exactly_one_of_file_and_cv_url(client, files):
    both = upload(client, SAMPLE_CV_TEXT.encode(), cv_url=f"{files.url}/cv.txt")
    assert both.status_code == 422 and both.json()["detail"][0]["loc"] == ["body"]
    neither = client.post(
        "/api/v1/regeneration", headers=AUTH, data={"additional_info": "{}"}, files={"x": ("a", b"b")}
    )
    assert neither.status_code == 422 and neither.json()["detail"][0]["loc"] == ["body", "file"]
    empty_json = client.post("/api/v1/regeneration", headers=AUTH, json={})
    assert empty_json.status_code == 422 and empty_json.json()["detail"][0]["loc"] == ["body", "cv_url"]
    json_with_file = client.post(
        "/api/v1/regeneration", headers=AUTH, json={"cv_url": "http://x/", "file": "a"}
    )
    assert json_with_file.status_code == 422


def test_bad_additional_info_is_422(client):
    for raw, loc in (
        ("not json", ["body", "additional_info"]),
        ('{"skills": 5}', ["body", "additional_info", "skills"]),
    ):
        response = client.post(
            "/api/v1/regeneration",
            headers=AUTH,
            files={"file": ("cv.txt", SAMPLE_CV_TEXT)},
            data={"additional_info": raw},
        )
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == loc


def test_file_types_are_sniffed_from_content(client):
    jpeg = io.BytesIO()
    Image.new("RGB", (20, 20)).save(jpeg, "JPEG")
    response = upload(client, jpeg.getvalue(), name="cv.pdf")
    assert response.status_code == 415 and "JPEG" in response.json()["detail"]
    empty = upload(client, b"", name="cv.txt")
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["body", "file"]


def test_other_content_types_are_415(client):
    response = client.post(
        "/api/v1/regeneration",
        headers={**AUTH, "Content-Type": "text/plain"},
        content=SAMPLE_CV_TEXT.encode(),
    )
    assert response.status_code == 415


def test_unreadable_documents_fail_the_task_with_a_code(client):
    broken_pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n" + b"x" * 300
    task_id = upload(client, broken_pdf, name="cv.pdf").json()["task_id"]
    done = wait_for_task(client, task_id)
    assert done["status"] == "failed" and done["error"].startswith("corrupt_file: ")


# --- rewrite ---------------------------------------------------------------------------------------------------


def cv_data():
    data = {k: v for k, v in good_answer().items() if k != "extracted_personal_info"}
    data["professional_profile"] = "Jane is a caring teaching assistant."
    return data


def test_rewrite_runs_offline_and_keeps_the_invariants(client):
    response = client.post(
        "/api/v1/rewrite/", headers=AUTH, json={"cv_data": cv_data(), "instruction": "Shorter"}
    )
    assert response.status_code == 202
    assert response.json()["message"] == "CV rewrite queued. Poll /tasks/{task_id} for results."
    done = wait_for_task(client, response.json()["task_id"])
    assert done["status"] == "completed"
    result = done["result"]
    assert result["status"] == "success" and result["message"] == "CV rewritten successfully."
    jobs = result["data_extracted"]["employment_history"]
    assert [(j["date_range"], j["company"], j["role"]) for j in jobs] == [
        (j["date_range"], j["company"], j["role"]) for j in cv_data()["employment_history"]
    ]
    assert "instruction_ignored" in result["warnings"]


def test_rewrite_input_is_validated(client):
    response = client.post(
        "/api/v1/rewrite", headers=AUTH, json={"cv_data": {"name": "x"}, "instruction": "y" * 1001}
    )
    assert response.status_code == 422
    locs = {tuple(e["loc"]) for e in response.json()["detail"]}
    assert ("body", "instruction") in locs and ("body", "cv_data", "role") in locs


# --- task lifecycle --------------------------------------------------------------------------------------------


def test_results_and_photos_are_deleted_after_the_ttl(files, tmp_path):
    config = make_config(files, result_ttl_seconds=2.0)
    with TestClient(create_app(config)) as short:
        path = LAYOUTS["docx_table"](sample_profile(has_photo=True), tmp_path / "cv")
        task_id = upload(short, path.read_bytes()).json()["task_id"]
        assert wait_for_task(short, task_id)["status"] == "completed"
        workdir = short.app.state.workdir
        assert list(workdir.iterdir()) == []  # the input file went when the job ended
        assert short.get(f"/api/v1/tasks/{task_id}/photo", headers=AUTH).status_code == 200
        time.sleep(2.5)
        assert short.get(f"/api/v1/tasks/{task_id}", headers=AUTH).json() == {"status": "PENDING"}
        assert short.get(f"/api/v1/tasks/{task_id}/photo", headers=AUTH).status_code == 404
    assert not workdir.exists()  # the private work directory goes with the service


def test_a_full_queue_answers_503(files):
    with TestClient(create_app(make_config(files, max_pending=1, executor="thread", workers=1))) as busy:
        busy.app.state.store.create("regeneration")  # one unfinished task fills the queue
        response = upload(busy, SAMPLE_CV_TEXT.encode())
        assert response.status_code == 503 and response.headers["retry-after"] == "30"
        assert list(busy.app.state.workdir.iterdir()) == []


def test_llm_mode_uses_the_same_library(files, fake_http):
    reset_process_state()
    fake = FakeOpenAI(fake_http, [reply(good_answer())])
    llm = LLMConfig(base_url=fake.base_url, model=fake.model, timeout_seconds=10)
    with TestClient(create_app(make_config(files, provider="llm", llm=llm))) as llm_client:
        task_id = upload(llm_client, SAMPLE_CV_TEXT.encode()).json()["task_id"]
        result = wait_for_task(llm_client, task_id)["result"]
    assert result["provider"] == "llm" and result["model"] == "test-model"
    assert result["personal_info"]["full_name"] == "Jane Doe" and len(fake.calls) == 1
    assert fake.problems == []


# --- configuration ---------------------------------------------------------------------------------------------


def test_configuration_from_the_environment():
    config = ServiceConfig.from_env(
        {
            "AI_SERVICE_TOKEN": TOKEN,
            "STORAGE_ENDPOINT": "http://minio:9000",
            "AI_DOCS_ENABLED": "true",
            "AI_RESULT_TTL_SECONDS": "60",
        }
    )
    assert (
        config.fetch_allowed_hosts == ("minio:9000",)
        and config.docs_enabled
        and config.result_ttl_seconds == 60
    )
    assert config.provider == "offline" and config.llm is None
    explicit = ServiceConfig.from_env(
        {"AI_SERVICE_TOKEN": TOKEN, "AI_FETCH_ALLOWED_HOSTS": "S3.Internal:443, [::1]:9000"}
    )
    assert explicit.fetch_allowed_hosts == ("s3.internal:443", "[::1]:9000")
    llm = ServiceConfig.from_env(
        {
            "AI_SERVICE_TOKEN": TOKEN,
            "AI_SERVICE_PROVIDER": "llm",
            "OPENAI_BASE_URL": "http://m/v1",
            "AI_MODEL": "x",
        }
    )
    assert llm.llm.model == "x" and llm.llm.structured_mode == "json_schema"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "AI_SERVICE_TOKEN must be set"),
        ({"AI_SERVICE_TOKEN": "short"}, "AI_SERVICE_TOKEN must be set"),
        ({"AI_SERVICE_TOKEN": TOKEN, "AI_SERVICE_PROVIDER": "llm"}, "needs OPENAI_BASE_URL and AI_MODEL"),
        ({"AI_SERVICE_TOKEN": TOKEN, "AI_FETCH_ALLOWED_HOSTS": "minio"}, "must be host:port"),
        ({"AI_SERVICE_TOKEN": TOKEN, "AI_DOCS_ENABLED": "maybe"}, "true or false"),
    ],
)
def test_bad_configuration_is_refused(env, message):
    with pytest.raises(ConfigError, match=message):
        ServiceConfig.from_env(env)


def test_an_unconfigured_service_refuses_to_start(monkeypatch):
    monkeypatch.delenv("AI_SERVICE_TOKEN", raising=False)
    app = create_app()
    with pytest.raises(RuntimeError, match="AI_SERVICE_TOKEN must be set"), TestClient(app):
        pass
