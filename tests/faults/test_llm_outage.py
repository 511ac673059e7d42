"""The LLM server answers 429 / 5xx / too slowly, then recovers — or keeps failing."""

import hashlib
import itertools
import re
import threading
import time
import uuid
from collections import defaultdict

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from candidates.models import Quality, Stage
from outreach.models import OutboxMessage
from tests.ai_service.openai_fake import SAMPLE_CV_TEXT, FakeOpenAI, good_answer, reply, slow, status
from tests.candidates.factories import BatchFactory, CandidateFactory
from tests.conftest import start_celery_worker
from tests.fakes import FakeHTTPServer
from tests.faults.support import (
    assert_each_recipient_once,
    assert_final_and_counted,
    assert_one_availability_email_each,
    upload,
    wait_until_finished,
)

pytestmark = [pytest.mark.faults, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
TIMEOUT = 2  # AI_TIMEOUT_SECONDS of the workers: a 3 s answer is a timeout
RETRY_AFTER = 3  # seconds, sent with the 429 (the worker's own first backoff would be ~1 s)
REFERENCE = re.compile(r"Reference: fault-(\d+)-")


class ScriptedLLM:
    """The fake OpenAI server with a script per CV (by the reference line of its text); every call is timed."""

    def __init__(self):
        self.scripts: dict[int, list] = {}
        self.default = None  # for CVs without a script
        self.calls: dict[int, list[float]] = defaultdict(list)
        self._lock = threading.Lock()
        self.fake = FakeOpenAI(FakeHTTPServer, default=self._answer)

    def _answer(self, body: dict):
        text = body["messages"][1]["content"]
        number = int(REFERENCE.search(text).group(1))
        with self._lock:
            self.calls[number].append(time.monotonic())
            script = self.scripts.get(number, [])
            action = script.pop(0) if script else self.default
        if action is None:
            action = reply(good_answer(extracted_personal_info={"email": f"jane.doe{number}@example.org"}))
        return action(body)

    def gaps(self, number: int) -> list[float]:
        times = self.calls[number]
        return [later - earlier for earlier, later in itertools.pairwise(times)]


def cv_text(number: int) -> str:
    text = SAMPLE_CV_TEXT.replace("Jane.Doe@example.org", f"jane.doe{number}@example.org")
    return text + f"\nReference: fault-{number}-{uuid.uuid4().hex}\n"


@pytest.fixture
def llm():
    server = ScriptedLLM()
    yield server
    server.fake.server.close()
    assert server.fake.problems == []


def llm_worker(llm, name: str, **env):
    return start_celery_worker(
        {"AI_PROVIDER": "llm", "OPENAI_BASE_URL": llm.fake.base_url, "OPENAI_API_KEY": "test-key",
         "AI_MODEL": llm.fake.model, "AI_RATE_LIMIT": "1000", "AI_TIMEOUT_SECONDS": str(TIMEOUT),
         "EMAIL_PROVIDER": "outbox", **env},
        name=name, exclusive=True,
    )  # fmt: skip


def at_last_retry(count: int, first_number: int) -> str:
    """A batch of candidates whose analysis is on its last retry, as after ~4 min of an LLM outage
    (15 + 30 + 60 + 120 s of backoff): ``analyse_cv`` is enqueued with Celery's ``retries`` already at
    ``max_retries`` instead of waiting for them. Everything after that is the worker's own doing."""
    from candidates.tasks import analyse_cv

    batch = BatchFactory(uploaded_count=count)
    for number in range(first_number, first_number + count):
        text = cv_text(number)
        candidate = CandidateFactory(
            batch=batch, processing_stage=Stage.ANALYSING, extracted_text=text, file_type="txt", email=None,
            file_sha256=hashlib.sha256(text.encode()).hexdigest(), original_filename=f"cv{number}.txt",
        )  # fmt: skip
        analyse_cv.apply_async((str(candidate.id), str(candidate.run_id)), retries=analyse_cv.max_retries)
    return str(batch.id)


def test_llm_failing_then_recovering_and_failing_for_good(operator_client, django_db_setup, llm):
    llm.scripts = {
        0: [status(429, "slow down", retry_after=RETRY_AFTER)],  # retried in process after Retry-After
        1: [status(500), status(503), status(502)],  # in-process retries used up: the task retries later
        2: [slow(TIMEOUT + 1, reply(good_answer()))],  # timeout: the task retries later
        4: [status(401, "invalid api key")] * 3,  # refused for good: no retry
    }
    worker = llm_worker(llm, "llm-outage")
    try:
        files = [SimpleUploadedFile(f"cv{n}.txt", cv_text(n).encode()) for n in range(5)]
        batch_id = upload(operator_client, files)
        wait_until_finished(batch_id, timeout=90, worker=worker)
        candidates = {c.original_filename: c for c in assert_final_and_counted(
            operator_client, batch_id, 5, failure_codes=("ai_unavailable",))}  # fmt: skip
        assert_one_availability_email_each(batch_id, candidates.values())

        llm.default = status(503, "overloaded")  # from now on the server never recovers
        lost_batch = at_last_retry(1, first_number=10)
        wait_until_finished(lost_batch, timeout=60, worker=worker)
        [lost] = assert_final_and_counted(operator_client, lost_batch, 1, failure_codes=("ai_unavailable",))
    finally:
        worker.stop()

    for number in range(4):
        candidate = candidates[f"cv{number}.txt"]
        assert candidate.processing_stage == Stage.DONE, (candidate.failure_code, candidate.ai_failure_reason)
        assert candidate.ai_enhanced_cv_content["provider"] == "llm"
        assert candidate.email == f"jane.doe{number}@example.org"
    assert llm.gaps(0)[0] >= RETRY_AFTER  # Retry-After honoured (the own backoff is 0.8–1.2 s)
    first, second, task_retry = llm.gaps(1)
    assert first >= 0.8 and second >= 1.6 and task_retry >= 12  # 1 s × 2ⁿ in process, then 15 s × 2ⁿ task
    assert llm.gaps(2)[0] >= 12  # the timed-out call: the task's retry
    refused = candidates["cv4.txt"]
    assert (refused.processing_stage, refused.failure_stage) == (Stage.FAILED, Stage.ANALYSING)
    assert refused.ai_failure_reason == "The LLM server refused the request (HTTP 401)."
    assert len(llm.calls[4]) == 1
    assert lost.ai_failure_reason == "Gave up after retries: The LLM server answered HTTP 503."
    assert len(llm.calls[10]) == 3  # the last attempt still retries in process twice
    assert_each_recipient_once(address for message in OutboxMessage.objects.all() for address in message.to)


def test_llm_failing_for_good_with_offline_fallback(operator_client, django_db_setup, llm):
    llm.default = status(503, "overloaded")
    worker = llm_worker(llm, "llm-fallback", AI_FALLBACK_TO_OFFLINE="true")
    try:
        batch_id = at_last_retry(1, first_number=20)
        wait_until_finished(batch_id, timeout=60, worker=worker)
        [candidate] = assert_final_and_counted(operator_client, batch_id, 1)
        assert_one_availability_email_each(batch_id, [candidate])
    finally:
        worker.stop()
    assert_each_recipient_once(address for message in OutboxMessage.objects.all() for address in message.to)
    assert candidate.ai_enhanced_cv_content["provider"] == "offline"
    assert "offline_fallback" in candidate.quality_reasons and candidate.quality_status == Quality.MANUAL
    assert len(llm.calls[20]) == 3
