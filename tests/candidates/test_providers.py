"""The LLM provider in the backend (AI_PROVIDER=llm): settings, cache, error mapping, the pipeline with eager
tasks and with a real worker, against a real local OpenAI-compatible server."""

import hashlib
import time
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from candidates import ingest, providers, rewrite
from candidates.analysis import AnalysisFailed, analyse
from candidates.models import Candidate, Quality, RewriteStatus, Stage
from candidates.rewrite import RewriteInvalid
from core.extraction import llm
from core.extraction.sanitise import CandidateFacts
from core.extraction.schema import validate_cv_data
from cvengine.celery import TransientError
from tests.ai_service.openai_fake import SAMPLE_CV_TEXT, good_answer, reply, status

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def llm_settings(settings, llm_server):
    settings.AI_PROVIDER = "llm"
    settings.OPENAI_BASE_URL = llm_server.base_url
    settings.AI_MODEL = llm_server.model
    settings.OPENAI_API_KEY = "test-key"
    settings.AI_FALLBACK_TO_OFFLINE = False
    llm.reset_process_state()
    yield settings
    llm.reset_process_state()


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def run_analysis(text, hints=None):
    return analyse(text, has_photo=False, hints=hints or {}, ocr_used=False, sha256=sha(text))


def test_llm_analysis_returns_the_stored_result_and_is_cached(llm_settings, llm_server, unique_cv_text):
    llm_server.default = reply(good_answer())
    first = run_analysis(unique_cv_text, {"job_role": ["Teaching Assistant"]})
    assert first["provider"] == "llm" and first["model"] == "test-model" and first["quality_check"] == "pass"
    assert first["personal_info"]["job_role"] == ["Teaching Assistant"]
    assert len(llm_server.calls) == 1
    call = llm_server.calls[0]
    assert call["response_format"]["type"] == "json_schema" and call["max_tokens"] == 4000

    again = run_analysis(unique_cv_text, {"job_role": ["Teaching Assistant"]})
    assert len(llm_server.calls) == 1  # (sha256, prompt version, model, hints) already answered
    assert again["data_extracted"] == first["data_extracted"]
    run_analysis(unique_cv_text, {"job_role": ["Class Teacher"]})  # other hints: another prompt, another call
    assert len(llm_server.calls) == 2


def test_settings_reach_the_request(llm_settings, llm_server, unique_cv_text):
    llm_settings.AI_STRUCTURED_MODE = "json_object"
    llm_settings.AI_MAX_OUTPUT_TOKENS = 1234
    llm_server.default = reply(good_answer())
    run_analysis(unique_cv_text)
    call = llm_server.calls[0]
    assert call["response_format"] == {"type": "json_object"} and call["max_tokens"] == 1234
    assert "must match this JSON Schema" in call["messages"][0]["content"]


def test_rate_limits_and_5xx_become_transient_errors_with_retry_after(
    llm_settings, llm_server, unique_cv_text
):
    llm_server.script.extend([status(429, retry_after=120)])
    with pytest.raises(TransientError) as caught:
        run_analysis(unique_cv_text)
    assert caught.value.retry_after == 120


@pytest.mark.parametrize(
    ("script", "code"),
    [
        ([reply("not json"), reply('{"name": 1}')], "invalid_ai_output"),
        ([status(401, "invalid api key")], "ai_unavailable"),
        ([reply(None, refusal="No."), reply(None, refusal="Still no.")], "invalid_ai_output"),
    ],
    ids=["invalid-after-reask", "auth", "refusals"],
)
def test_permanent_failures_become_analysis_failed(llm_settings, llm_server, unique_cv_text, script, code):
    llm_server.script.extend(script)
    with pytest.raises(AnalysisFailed) as caught:
        run_analysis(unique_cv_text)
    assert caught.value.code == code


def test_offline_fallback_when_enabled(llm_settings, llm_server, unique_cv_text):
    llm_settings.AI_FALLBACK_TO_OFFLINE = True
    llm_server.script.extend([reply("not json"), reply("still not json")])
    stored = run_analysis(unique_cv_text)
    assert stored["provider"] == "offline" and "offline_fallback" in stored["warnings"]
    assert stored["quality_check"] == "manual review" and "offline_fallback" in stored["quality_reasons"]


def current_cv():
    data = {k: v for k, v in good_answer().items() if k != "extracted_personal_info"}
    data["professional_profile"] = "Jane is a caring teaching assistant."
    return validate_cv_data(data)[0]


FACTS = CandidateFacts(given_name="Jane", full_name="Jane Doe", surname="Doe")


def test_rewrite_mapping(llm_settings, llm_server):
    cv = current_cv()
    better = cv.model_dump() | {"professional_profile": "Jane Doe is a dedicated, warm teaching assistant."}
    llm_server.script.append(reply(better))
    result, warnings = providers.rewrite_with_llm(cv, "Warmer tone", FACTS)
    assert result.professional_profile == "Jane is a dedicated, warm teaching assistant." and warnings == []

    changed = cv.model_dump()
    changed["employment_history"][1]["date_range"] = "2015 - 2019"
    llm_server.script.extend([reply(changed), reply(changed)])
    with pytest.raises(RewriteInvalid, match="rewrite changed immutable fields"):
        providers.rewrite_with_llm(cv, "", FACTS)

    llm_server.script.append(status(503, retry_after=300))
    with pytest.raises(TransientError) as caught:
        providers.rewrite_with_llm(cv, "", FACTS)
    assert caught.value.retry_after == 300


# --- the pipeline with eager tasks -------------------------------------------------------------------------------


def upload_text(text: str, info=None):
    result = ingest.ingest([SimpleUploadedFile("jane.txt", text.encode())], info or {}, None)
    return Candidate.objects.get(id=result.outcomes[0].candidate_id)


def test_pipeline_and_rewrite_with_the_llm_provider(llm_settings, llm_server, eager_celery, unique_cv_text):
    llm_server.default = reply(good_answer())
    candidate = upload_text(unique_cv_text, {"job_role": ["Teaching Assistant"]})
    assert candidate.processing_stage == Stage.DONE, (candidate.failure_code, candidate.ai_failure_reason)
    assert (candidate.name, candidate.name_without_surname) == ("Jane Doe", "Jane")
    assert candidate.email == "jane.doe@example.org" and candidate.whatsapp_number == "+447700900123"
    assert candidate.quality_status == Quality.PASSED and str(candidate.years_of_experience) != "0.0"
    assert candidate.ai_enhanced_cv_content["provider"] == "llm"
    assert (
        candidate.email_subject == "Experienced Teaching Assistant available in London"
    )  # markdown stripped
    assert len(llm_server.calls) == 1
    user = llm_server.calls[0]["messages"][1]["content"]
    assert "Reference number" in user and '"Teaching Assistant"' in user

    rewritten = current_cv().model_dump()
    rewritten.update(
        professional_profile="Jane is a warm, dedicated teaching assistant.",
        email_subject="Dedicated Teaching Assistant in London",
        email_body="I would like to introduce Jane.\n\n- Phonics\n\nPlease reply to arrange a visit.",
    )
    rewritten["employment_history"] = candidate.ai_enhanced_cv_content["data_extracted"]["employment_history"]
    llm_server.default = reply(rewritten)
    rewrite.start_rewrite(candidate, "Warmer")
    candidate.refresh_from_db()
    assert candidate.rewrite_status == RewriteStatus.COMPLETED, candidate.rewrite_failure_reason
    assert candidate.email_subject == "Dedicated Teaching Assistant in London"
    assert candidate.ai_enhanced_cv_content["data_extracted"]["professional_profile"].startswith(
        "Jane is a warm"
    )


def test_pipeline_records_invalid_ai_output(llm_settings, llm_server, eager_celery, unique_cv_text):
    llm_server.default = reply('{"name": "Jane"}')
    candidate = upload_text(unique_cv_text)
    assert (candidate.processing_stage, candidate.failure_stage, candidate.failure_code) == (
        Stage.FAILED,
        Stage.ANALYSING,
        "invalid_ai_output",
    )
    assert len(llm_server.calls) == 2  # the answer and one re-ask


def analysing_candidate(text: str) -> Candidate:
    from tests.candidates.factories import CandidateFactory

    return CandidateFactory(
        processing_stage=Stage.ANALYSING,
        extracted_text=text,
        file_sha256=sha(text),
        file_type="txt",
        email=None,
    )


def test_transient_errors_are_retried_then_fall_back_on_the_last_attempt(
    llm_settings, llm_server, eager_celery, unique_cv_text
):
    from celery.exceptions import Retry

    from candidates.tasks import analyse_cv

    llm_settings.AI_FALLBACK_TO_OFFLINE = True
    llm_server.default = status(429, "slow down", retry_after=300)  # too long to wait in process
    candidate = analysing_candidate(unique_cv_text)
    args = (str(candidate.id), str(candidate.run_id))
    with pytest.raises(Retry) as retry:
        analyse_cv.apply(args=args, retries=0)
    assert retry.value.when == 300  # Retry-After honoured by the task's backoff
    analyse_cv.apply(args=args, retries=analyse_cv.max_retries)
    candidate.refresh_from_db()
    assert candidate.processing_stage == Stage.DONE, (candidate.failure_code, candidate.ai_failure_reason)
    assert candidate.ai_enhanced_cv_content["provider"] == "offline"
    assert "offline_fallback" in candidate.quality_reasons and candidate.quality_status == Quality.MANUAL
    assert len(llm_server.calls) == 2


def test_without_fallback_the_last_transient_error_reaches_the_task(
    llm_settings, llm_server, eager_celery, unique_cv_text
):
    from candidates.tasks import analyse_cv

    llm_server.default = status(503, "overloaded", retry_after=300)
    candidate = analysing_candidate(unique_cv_text)
    with pytest.raises(TransientError, match="HTTP 503"):  # the task's on_failure records ai_unavailable
        analyse_cv.apply(args=(str(candidate.id), str(candidate.run_id)), retries=analyse_cv.max_retries)
    assert len(llm_server.calls) == 1


# --- a real worker ---------------------------------------------------------------------------------------------


def wait_for_stage(candidate_id, stages=(Stage.DONE, Stage.FAILED), timeout=90.0) -> Candidate:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        candidate = Candidate.objects.get(id=candidate_id)
        if candidate.processing_stage in stages:
            return candidate
        time.sleep(0.25)
    raise AssertionError(f"candidate still {candidate.processing_stage}")


@pytest.mark.worker
def test_llm_pipeline_with_a_real_worker(llm_worker, llm_server):
    llm_server.default = reply(good_answer())
    text = SAMPLE_CV_TEXT + f"\nReference number: {uuid.uuid4().hex}\n"
    candidate = upload_text(text, {"job_role": ["Teaching Assistant"]})
    candidate = wait_for_stage(candidate.id)
    assert candidate.processing_stage == Stage.DONE, (
        candidate.failure_code,
        candidate.ai_failure_reason,
        llm_worker.log_path.read_text()[-3000:],
    )
    assert candidate.ai_enhanced_cv_content["provider"] == "llm"
    assert candidate.ai_enhanced_cv_content["model"] == "test-model"
    assert (candidate.name_without_surname, candidate.email) == ("Jane", "jane.doe@example.org")
    assert candidate.quality_status == Quality.PASSED and candidate.enhanced_cv
    assert len(llm_server.calls) == 1
    call = llm_server.calls[0]
    assert call["model"] == "test-model" and call["response_format"]["json_schema"]["strict"] is True
    assert "Reference number" in call["messages"][1]["content"]
    log = llm_worker.log_path.read_text()
    assert "jane.doe@example.org" not in log and "07700 900123" not in log


# --- settings --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AI_STRUCTURED_MODE": "xml"}, "AI_STRUCTURED_MODE must be"),
        ({"AI_POLL_INTERVAL_SECONDS": "61"}, "AI_POLL_INTERVAL_SECONDS must be 1–60"),
        ({"AI_POLL_INTERVAL_SECONDS": "30", "AI_POLL_MAX_WAIT_SECONDS": "10"}, "AI_POLL_MAX_WAIT_SECONDS"),
        ({"AI_RATE_LIMIT": "0"}, "AI_RATE_LIMIT"),
        (
            {"AI_PROVIDER": "remote", "AI_BASE_URL": "ftp://ai", "AI_SERVICE_TOKEN": "t"},
            "AI_BASE_URL must be",
        ),
        (
            {"AI_PROVIDER": "llm", "OPENAI_BASE_URL": "localhost:11434", "AI_MODEL": "m"},
            "OPENAI_BASE_URL must be",
        ),
        ({"AI_PROVIDER": "llm", "OPENAI_BASE_URL": "http://llm/v1", "AI_MODEL": "m"}, None),
    ],
)
def test_extraction_settings_are_validated_at_start_up(tmp_path, env, message):
    import os
    import subprocess
    import sys

    base = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "cvengine.settings",
        "SECRET_KEY": "k" * 50,
        "PASSWORD_RESET_OTP_PEPPER": "p" * 40,
        "CVENGINE_HOME": str(tmp_path),
    }
    code = "import django; django.setup(); from django.conf import settings as s; print(s.AI_TIMEOUT_SECONDS)"
    result = subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True)
    if message is None:
        assert result.returncode == 0 and result.stdout.strip() == "120.0", result.stderr
    else:
        assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr and message in result.stderr
