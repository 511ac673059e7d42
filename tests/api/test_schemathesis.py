"""Schemathesis over the live OpenAPI schema (``/api/schema/``), in-process, authenticated (api.md §1.6 "client
input never produces 500"; reference-defects B21, B29).

Every operation of the served schema is one test item. Each gets generated positive and negative requests
(examples, coverage and fuzzing phases; at most 5 fuzzed examples, fixed seed, derandomized: a CI run is
deterministic and takes about 40 s in each of the two profiles). Checks: no server error; the status code,
content type, headers and body are the documented ones; an operation that needs credentials refuses a request
without them (401).

Requests carry ``Authorization: Bearer <access token>`` of an operator (``register`` is superuser-only: a
superuser's token). So that success paths are exercised and not only 404s and 400s:

- path parameters are the ids of real objects in two cases of three (objects a generated DELETE removed are
  re-created), the others keep the generated value (malformed, unknown);
- every third request of login, token refresh, logout, register and upload carries a valid body or the refresh
  cookie of a separate session account (so ``logout`` with ``all_sessions`` never revokes the operator's token);
- the delivery-events webhook is sent unsigned (must be 403, never 500) and, every other request, signed with
  the HMAC verifier's secret (the events are then parsed and applied).

Nothing is excluded: the bulk upload is small enough in-process, and the webhook is signed here.
Throttle counters get a namespace of their own and limits of at least 40 requests (every request counts, the
coverage phase's unexpected methods too): the success paths are reached, and 429 after them.
"""

import hashlib
import hmac
import itertools
import json
import os
import time
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core import NotSet
from schemathesis.core.parameters import ParameterLocation

pytestmark = pytest.mark.sqlite  # both profiles: PostgreSQL + S3, and the embedded SQLite + local files
PASSWORD = "S3cure-pass-phrase!"
WEBHOOK_SECRET = "schemathesis-webhook-secret-" + "s" * 20
CHECKS = (
    "not_a_server_error",
    "ignored_auth",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
# A deeper local exploration: SCHEMATHESIS_MAX_EXAMPLES=100 SCHEMATHESIS_SEED=<n> pytest tests/api
CONFIG = {
    "seed": int(os.environ.get("SCHEMATHESIS_SEED", "20260301")),
    # Security parameters stay out of generation: a generated access_token cookie would win over the Bearer
    # header and turn most cases into 401s (ignored_auth covers requests without credentials).
    "generation": {
        "max-examples": int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "5")),
        "deterministic": True,
        "database": "none",
        "with-security-parameters": False,
    },
    "phases": {"stateful": {"enabled": False}},
    "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
}
TXT_CV = (
    "Jane Example\nTeaching Assistant\nLeeds LS1 4AP\n\nExperience\nSep 2019 - Present  Teaching Assistant, "
    "Oak Primary School\nSupported phonics groups and pupils with SEND.\n\nQualifications\nLevel 3 Supporting "
    "Teaching and Learning\n"
)


def _load_schema():
    """The schema the running application serves. Collection has no database, so the loading request alone
    sees the docs as public (they are operator-only in tests, as in production); every generated request is
    authenticated."""
    from django.test import override_settings

    from cvengine.wsgi import application

    with override_settings(API_DOCS_PUBLIC=True):
        return schemathesis.openapi.from_wsgi(
            "/api/schema/?format=json", application, config=SchemathesisConfig.from_dict(CONFIG)
        )


schema = _load_schema()
_turn = itertools.count()


class World:
    """Real objects for path parameters and bodies; anything a generated DELETE removed is re-created."""

    def __init__(self, operator, superuser, session_user):
        from accounts.tokens import issue_tokens

        self.session_user = session_user
        self.tokens = {"operator": issue_tokens(operator).access, "superuser": issue_tokens(superuser).access}
        self.cache: dict[str, str] = {}

    def _alive(self, model, key):
        pk = self.cache.get(key)
        return pk if pk and model.objects.filter(pk=pk).exists() else None

    def batch(self) -> str:
        from candidates.models import Batch

        if not (pk := self._alive(Batch, "batch")):
            pk = self.cache["batch"] = str(Batch.objects.create(uploaded_count=2).pk)
        return pk

    def candidate(self, key="candidate", **fields) -> str:
        """A processed candidate with stored files and a stored analysis (rewrite, outreach and nearby work)."""
        from candidates.models import Candidate
        from tests.candidates.factories import CandidateFactory, stored_cv_content

        if not (pk := self._alive(Candidate, key)):
            candidate = CandidateFactory(
                batch_id=self.batch(),
                postcode="LS1 4AP",
                ai_enhanced_cv_content=stored_cv_content(),
                email_subject="Experienced teaching assistant available",
                email_body="An experienced teaching assistant is available for school roles.",
                files=True,
                **fields,
            )
            pk = self.cache[key] = str(candidate.pk)
        return pk

    def failed_candidate(self) -> str:
        from candidates.models import Stage

        return self.candidate(
            "failed_candidate",
            processing_stage=Stage.FAILED,
            failure_stage="analysing",
            failure_code="timeout",
        )

    def organization(self) -> str:
        from organizations.models import Organization

        if not (pk := self._alive(Organization, "organization")):
            org = Organization.objects.create(
                name="Park Lane Primary School",
                local_authority="Leeds",
                town="Leeds",
                postcode="LS1 4AP",
                latitude="53.795470",
                longitude="-1.555730",
                geocode_precision="unit",
            )
            pk = self.cache["organization"] = str(org.pk)
        return pk

    def contact(self) -> str:
        from organizations.models import Contact

        if not (pk := self._alive(Contact, "contact")):
            contact = Contact.objects.create(
                organization_id=self.organization(),
                contact_person="Pat Head",
                job_title="Headteacher",
                work_email=f"head-{uuid.uuid4().hex[:8]}@parklane.sch.uk",
            )
            pk = self.cache["contact"] = str(contact.pk)
        return pk

    def import_job(self) -> str:
        """A finished organisations import (dry run) with one rejected row, so its rejects CSV exists."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        from organizations import imports
        from organizations.models import ImportJob
        from tests.core.imports import workbooks

        if not (pk := self._alive(ImportJob, "import_job")):
            header = ["URN", "LocalAuthority", "OrganizationName", "Phase", "Gender", "Town", "Postcode"]
            good = [100154, "Leeds", "Park Lane Primary", "Primary", "Mixed", "Leeds", "LS1 4AP"]
            bad = ["not-a-urn", "Leeds", None, None, None, None, None]
            upload = SimpleUploadedFile("schools.xlsx", workbooks.xlsx({"Schools": [header, good, bad]}))
            job = imports.start_import("organizations", upload, dry_run=True, enqueue=False)
            imports.run_job(job.pk)
            pk = self.cache["import_job"] = str(job.pk)
        return pk

    def outreach_job(self) -> str:
        from outreach import services
        from outreach.models import OutreachJob

        if not (pk := self._alive(OutreachJob, "outreach_job")):
            from candidates.models import Candidate

            candidate = Candidate.objects.get(pk=self.candidate())
            started = services.start_outreach(candidate, contact_ids_raw=[self.contact()], user=None)
            pk = self.cache["outreach_job"] = started["task_id"]
        return pk

    def suppression(self) -> str:
        from outreach.models import Suppression

        if not (pk := self._alive(Suppression, "suppression")):
            entry = Suppression.objects.create(
                email=f"gone-{uuid.uuid4().hex[:8]}@school.sch.uk",
                reason=Suppression.Reason.MANUAL,
                source="test",
            )
            pk = self.cache["suppression"] = str(entry.pk)
        return pk

    def path_value(self, path: str, name: str) -> str | None:
        from outreach.unsubscribe import make_token

        if name == "task_id":
            return self.import_job() if "/import/" in path else self.outreach_job()
        if name == "token":
            return make_token("someone@school.sch.uk")
        if name == "candidate_id" and path.endswith("/retry/"):
            return self.failed_candidate()
        makers = {
            "candidate_id": self.candidate,
            "batch_id": self.batch,
            "organization_id": self.organization,
            "contact_id": self.contact,
            "suppression_id": self.suppression,
        }
        return makers[name]() if name in makers else None

    def refresh_cookie(self) -> dict:
        from accounts.tokens import issue_tokens

        return {"refresh_token": issue_tokens(self.session_user).refresh}

    def valid_request(self, case) -> dict:
        """Body or cookies that reach the success path of operations random input never passes."""
        if case.path == "/api/auth/login/":
            case.body = {"email": self.session_user.email, "password": PASSWORD}
        elif case.path in ("/api/auth/token/refresh/", "/api/auth/logout/"):
            return {"cookies": self.refresh_cookie()}
        elif case.path == "/api/auth/register/":
            email = f"new-{uuid.uuid4().hex[:8]}@agency.example"
            case.body = {"email": email, "first_name": "Nia", "last_name": "New", "password": PASSWORD,
                         "password_confirm": PASSWORD}  # fmt: skip
        elif case.path == "/api/candidates/upload/" and isinstance(case.body, dict):
            case.body["files"] = [(TXT_CV + uuid.uuid4().hex).encode()]
        return {}


@pytest.fixture
def _in_test_transaction():
    """Requests reach the WSGI handler directly: keep it from closing the test transaction's connection at
    request start/end (Django's own test client does the same)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, _in_test_transaction, settings, monkeypatch, make_user, operator, superuser):
    from accounts import throttles

    monkeypatch.setattr(throttles, "KEY_PREFIX", f"throttle-schemathesis-{uuid.uuid4().hex}")
    # Limits high enough for the success paths to be reached, low enough for 429 to be reached too.
    settings.ACCOUNTS_THROTTLES = {scope: (max(count, 40), seconds) for scope, (count, seconds) in
                                   settings.ACCOUNTS_THROTTLES.items()}  # fmt: skip
    settings.EMAIL_WEBHOOK_VERIFIER = "hmac"
    settings.EMAIL_WEBHOOK_SECRET = WEBHOOK_SECRET
    return World(operator, superuser, make_user("session@example.org", PASSWORD, is_staff=True))


def _raw_body(body) -> bytes:
    """The bytes to sign: generated JSON as JSON, generated raw (negative) bodies as they are."""
    if isinstance(body, NotSet):
        return b""
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    return json.dumps(body).encode()


def _sign(body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Webhook-Timestamp": timestamp, "X-Webhook-Signature": f"sha256={digest}"}


@settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
@schema.parametrize()
def test_api_conforms_to_its_schema(case, world):
    turn = next(_turn)
    negative_path = case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH)
    if case.path_parameters and turn % 3 and not negative_path:
        for name in list(case.path_parameters):
            if (value := world.path_value(case.path, name)) is not None:
                case.path_parameters[name] = value
    kwargs = world.valid_request(case) if turn % 3 == 0 else {}
    role = "superuser" if case.path == "/api/auth/register/" else "operator"
    headers = {"Authorization": f"Bearer {world.tokens[role]}"}
    if case.path == "/api/outreach/events/" and turn % 2:
        raw = _raw_body(case.body)
        headers.update(_sign(raw))
        kwargs["data"] = raw
    case.call_and_validate(headers=headers, **kwargs)
