"""A scripted OpenAI-compatible chat-completions server on a real local port (the openai SDK talks httpx2, so
only a real server can stand in for the model). Shared by the core, backend and AI-service tests.

    fake = FakeOpenAI(fake_http, [reply(good_answer()), status(429, retry_after=1), ...])
    config = LLMConfig(base_url=fake.base_url, model=fake.model)

Each request takes the next scripted action; ``default`` answers once the script is used up. Requests are
recorded (``fake.calls``: parsed JSON bodies) and checked for the invariants every call must meet (path, model,
temperature 0, chat messages, nothing but text); violations are collected in ``fake.problems``.
"""

import json
import threading
import time
from collections import deque
from collections.abc import Callable

MODEL = "test-model"
Action = Callable[[dict], tuple[int, dict, object]]


def reply(content, *, finish_reason: str = "stop", refusal: str | None = None) -> Action:
    """A chat completion whose message content is ``content`` (a dict is sent as its JSON text)."""
    text = json.dumps(content) if isinstance(content, dict) else content

    def action(body: dict):
        return (
            200,
            {},
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model"),
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": finish_reason,
                        "message": {
                            "role": "assistant",
                            "content": None if refusal else text,
                            "refusal": refusal,
                        },
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            },
        )

    return action


def status(code: int, message: str = "error", retry_after: float | None = None) -> Action:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return lambda body: (code, headers, {"error": {"message": message, "type": "server_error"}})


def slow(seconds: float, then: Action) -> Action:
    def action(body: dict):
        time.sleep(seconds)
        return then(body)

    return action


def by_mode(**actions: Action) -> Action:
    """Answer by the request's structured mode: ``json_schema=``, ``json_object=``, ``prompt=``."""

    def action(body: dict):
        mode = (body.get("response_format") or {}).get("type", "prompt")
        return actions[mode](body)

    return action


class FakeOpenAI:
    def __init__(self, make_server, script=(), *, default: Action | None = None, model: str = MODEL):
        self.model = model
        self.script: deque[Action] = deque(script)
        self.default = default
        self.calls: list[dict] = []
        self.problems: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self.server = make_server(self._respond)

    @property
    def base_url(self) -> str:
        return f"{self.server.url}/v1"

    def _check(self, path: str, body: dict) -> None:
        if path != "/v1/chat/completions":
            self.problems.append(f"unexpected path {path}")
        if body.get("model") != self.model:
            self.problems.append(f"model {body.get('model')!r}")
        if body.get("temperature") != 0:
            self.problems.append(f"temperature {body.get('temperature')!r}")
        messages = body.get("messages") or []
        if not messages or messages[0].get("role") != "system":
            self.problems.append("no system message first")
        for message in messages:
            if not isinstance(message.get("content"), str):
                self.problems.append("a message that is not plain text (file, image or parts)")

    def _respond(self, request):
        body = request.json()
        with self._lock:
            self.calls.append(body)
            self._check(request.path, body)
            action = self.script.popleft() if self.script else self.default
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if action is None:
                self.problems.append("more calls than scripted")
                return 500, {}, {"error": {"message": "unscripted call"}}
            return action(body)
        finally:
            with self._lock:
                self.in_flight -= 1


def response_format(call: dict) -> dict | None:
    return call.get("response_format")


def system_text(call: dict) -> str:
    return call["messages"][0]["content"]


def user_text(call: dict) -> str:
    return call["messages"][1]["content"]


# --- a sample CV and the answer a well-behaved model gives for it ------------------------------------------------

SAMPLE_CV_TEXT = """JANE DOE
Email: Jane.Doe@example.org | Mobile: 07700 900123
12 Lime Street, London EC3A 5DE

Profile
Caring and reliable teaching assistant with a passion for early reading and for supporting pupils with SEND.

Employment History
Teaching Assistant, St Mary's Primary School, London
Sept 2019 - Present
• Supported small-group phonics for Year 1 and Year 2
• Led reading interventions for pupils with SEND

Learning Support Assistant, Oak Academy, London
Jan 2017 - Jul 2019
• Supported pupils with EHCPs in Key Stage 2 classes

Qualifications
Level 3 Supporting Teaching and Learning
Paediatric First Aid
Enhanced DBS (update service)

Interests
Running and choir singing.
"""


def good_answer(**overrides) -> dict:
    """The analysis a faithful model returns for SAMPLE_CV_TEXT (with a surname slip the sanitiser must catch)."""
    answer = {
        "name": "Jane",
        "role": ["Teaching Assistant"],
        "location": "London",
        "availability": "",
        "professional_profile": (
            "Jane Doe is a caring teaching assistant with a passion for early reading. Ms Doe supports pupils "
            "with SEND and can be reached at jane.doe@example.org."
        ),
        "employment_history": [
            {
                "date_range": "Sept 2019 - Present",
                "role": "Teaching Assistant",
                "company": "St Mary's Primary School",
                "responsibilities": [
                    "Supported small-group phonics for Year 1 and Year 2",
                    "Led reading interventions for pupils with SEND",
                ],
            },
            {
                "date_range": "Jan 2017 - Jul 2019",
                "role": "Learning Support Assistant",
                "company": "Oak Academy",
                "responsibilities": ["Supported pupils with EHCPs in Key Stage 2 classes"],
            },
        ],
        "qualifications": [
            "Level 3 Supporting Teaching and Learning",
            "Paediatric First Aid",
            "Enhanced DBS (update service)",
        ],
        "interests": "Running and choir singing.",
        "email_subject": "**Experienced Teaching Assistant** available in London",
        "email_body": (
            "I would like to introduce Jane, a teaching assistant based in London.\n\n"
            "- Phonics and reading interventions\n- Support for pupils with SEND\n\n"
            "Please reply if you would like to arrange an interview."
        ),
        "extracted_personal_info": {
            "full_name": "JANE DOE",
            "email": "jane.doe@example.org",
            "whatsapp": "+44 7700 900123",
            "location": "12 Lime Street, London",
            "postcode": "EC3A 5DE",
            "skills": ["Phonics", "SEND support"],
            "total_years_experience": 8,
            "experience_summary": "Eight years in primary schools.",
        },
    }
    personal = overrides.pop("extracted_personal_info", None)
    answer.update(overrides)
    if personal:
        answer["extracted_personal_info"] = {**answer["extracted_personal_info"], **personal}
    return answer
