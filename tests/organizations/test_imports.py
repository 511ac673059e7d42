"""Organisation import jobs (api.md O12, O14, O15; imports-and-geo.md §1–§2, §6; B2, B3/B5, B4, P3, V3)."""

import csv
import hashlib
import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ActivityLog
from organizations import imports
from organizations.models import GeocodePrecision, ImportJob, Organization
from tests.core.imports import workbooks
from tests.organizations.conftest import EC3A_5DE, M1_1AE, make_org

pytestmark = pytest.mark.django_db
IMPORT_URL = "/api/organizations/import/"
HEADER = [
    "URN",
    "LocalAuthority",
    "OrganizationName",
    "Phase",
    "Gender",
    "Street",
    "AddressLine1",
    "AddressLine2",
    "Town",
    "County",
    "Postcode",
    "TelephoneNumber",
]


def row(urn, name, la="City of London", phase="Primary", gender="Mixed", town="London", postcode="EC3A 5DE",
        telephone=2072831147, street="St James's Passage"):  # fmt: skip
    return [urn, la, name, phase, gender, street, None, None, town, None, postcode, telephone]


def xlsx(*rows, header=HEADER):
    return workbooks.xlsx({"All Schools 2023": [header, *rows]})


def upload(client, data, name="schools.xlsx", url=IMPORT_URL, **fields):
    return client.post(url, {"file": SimpleUploadedFile(name, data), **fields}, format="multipart")


@pytest.fixture
def run_inline(eager_celery, django_capture_on_commit_callbacks):
    """Upload through the API and run the queued worker task inline (after the request's commit)."""

    def run(client, data, name="schools.xlsx", url=IMPORT_URL, **fields):
        with django_capture_on_commit_callbacks(execute=True):
            response = upload(client, data, name, url, **fields)
        assert response.status_code == 202, response.json()
        job = ImportJob.objects.get(pk=response.json()["task_id"])
        status = client.get(f"/api/organizations/import/status/{job.pk}/")
        assert status.status_code == 200
        return job, status.json()

    return run


def rejects(client, job) -> tuple[bytes, list[dict]]:
    response = client.get(f"/api/organizations/import/status/{job.pk}/rejects/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    raw = b"".join(response.streaming_content)
    return raw, list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


# --- upload and the worker round trip ---------------------------------------------------------------------------


@pytest.mark.sqlite
def test_upload_stores_workbook_and_worker_reads_it_back(operator_client, operator, run_inline):
    data = xlsx(row(100154, "Sir John Cass's Foundation Primary School"), row(100155, "Second School"))
    job, status = run_inline(operator_client, data)
    digest = hashlib.sha256(data).hexdigest()
    assert job.file == f"imports/{job.pk}/{digest}.xlsx"
    assert default_storage.exists(job.file)  # object storage, read back by the worker
    assert (
        job.file_sha256 == digest and job.created_by == operator and job.original_filename == "schools.xlsx"
    )
    assert status["status"] == "completed"
    summary = status["summary"]
    assert summary["kind"] == "organizations" and summary["dry_run"] is False
    assert summary["total_rows"] == 2 and summary["organizations_created"] == 2
    assert summary["counts"] == {
        "rows": 2, "created": 2, "updated": 0, "unchanged": 0, "skipped": 0, "unmatched": 0, "ambiguous": 0,
        "errors": 0, "warnings": 0,
    }  # fmt: skip
    assert summary["rejects_url"] is None and summary["problems"] == [] and summary["errors"] == []
    school = Organization.objects.get(urn="100154")
    assert school.telephone == "020 7283 1147"
    assert school.geocode_precision == GeocodePrecision.UNIT
    assert float(school.latitude) == pytest.approx(EC3A_5DE[0], abs=0.0005)
    activity = ActivityLog.objects.get(event_type="org_import_completed")
    assert activity.severity == "success" and activity.actor == operator
    assert "2 rows: 2 created" in activity.message


def test_started_response_body(operator_client):
    response = upload(operator_client, xlsx(row(1, "A")))
    assert response.status_code == 202
    body = response.json()
    assert body["message"] == "Organization import started."
    assert body["note"] == f"Poll /api/organizations/import/status/{body['task_id']}/ for results."
    assert body["status_url"] == f"http://testserver/api/organizations/import/status/{body['task_id']}/"
    pending = operator_client.get(f"/api/organizations/import/status/{body['task_id']}/").json()
    assert pending == {"status": "pending", "message": "Import is still in progress."}


@pytest.mark.sqlite
@pytest.mark.parametrize(
    ("data", "code", "reason"),
    [
        (b"%PDF-1.7 fake", "not_a_spreadsheet", "PDF"),
        (b"", "empty_file", "empty"),
        (workbooks.zip_with({"word/document.xml": b"<w/>"}), "not_a_spreadsheet", "ZIP"),
        (b"\x89PNG\r\n\x1a\n....", "not_a_spreadsheet", "PNG"),
    ],
)
def test_non_spreadsheets_are_refused_by_content(operator_client, data, code, reason):
    response = upload(operator_client, data, name="schools.xlsx")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Only .xlsx files are supported." and body["code"] == code
    assert reason in body["reason"]
    assert not ImportJob.objects.exists()


def test_upload_errors(operator_client, settings):
    response = operator_client.post(IMPORT_URL, {}, format="multipart")
    assert response.status_code == 400
    assert response.json()["detail"] == "No file provided. Send file as multipart/form-data."
    assert operator_client.post(IMPORT_URL, {"x": 1}, format="json").status_code == 400
    bad_flag = upload(operator_client, xlsx(row(1, "A")), dry_run="perhaps")
    assert bad_flag.status_code == 400 and "dry_run" in bad_flag.json()
    settings.IMPORT_MAX_FILE_BYTES = 1000
    too_big = upload(operator_client, xlsx(*[row(i, f"School {i}") for i in range(1, 50)]))
    assert too_big.status_code == 413 and too_big.json()["code"] == "file_too_large"


def test_one_import_per_kind(operator_client):
    first = upload(operator_client, xlsx(row(1, "A"))).json()
    second = upload(operator_client, xlsx(row(2, "B")))
    assert second.status_code == 409
    assert second.json() == {
        "detail": "An import of this kind is already running.",
        "code": "import_running",
        "task_id": first["task_id"],
    }
    # the other kind is independent
    contacts = upload(operator_client, workbooks.csv_bytes([["LocalAuthority", "OrganizationName", "WorkEmail"]]),
                      url="/api/organizations/import/contacts/")  # fmt: skip
    assert contacts.status_code == 202


def test_stale_running_job_does_not_block_forever(operator_client, settings):
    first = upload(operator_client, xlsx(row(1, "A"))).json()
    ImportJob.objects.filter(pk=first["task_id"]).update(created_at=timezone.now() - timedelta(hours=5))
    assert upload(operator_client, xlsx(row(2, "B"))).status_code == 202
    stale = ImportJob.objects.get(pk=first["task_id"])
    assert stale.status == "failed" and "worker was lost" in stale.error


def test_import_endpoints_are_operator_only(api_client, make_user):
    api_client.force_authenticate(make_user("plain@example.org"))
    assert upload(api_client, xlsx(row(1, "A"))).status_code == 403
    job = ImportJob.objects.create(kind="organizations")
    assert api_client.get(f"/api/organizations/import/status/{job.pk}/").status_code == 403


# --- status and rejects -----------------------------------------------------------------------------------------


@pytest.mark.sqlite
def test_status_only_for_import_jobs(operator_client):
    for bad in ("nope", "00000000-0000-4000-8000-000000000000"):
        response = operator_client.get(f"/api/organizations/import/status/{bad}/")
        assert response.status_code == 404 and response.json() == {"detail": "Task not found."}
        assert operator_client.get(f"/api/organizations/import/status/{bad}/rejects/").status_code == 404


def test_processing_status_shows_progress(operator_client):
    job = ImportJob.objects.create(kind="organizations", status="processing", rows_done=3000, rows_total=None)
    assert operator_client.get(f"/api/organizations/import/status/{job.pk}/").json() == {
        "status": "processing",
        "message": "Import is processing.",
        "progress": {"rows_done": 3000, "rows_total": None},
    }


@pytest.mark.sqlite
def test_rows_mapping_problems_and_rejects_csv(operator_client, run_inline):
    data = xlsx(
        row(
            100001,
            "Good School",
            phase="16+",
            gender="Girls",
            postcode="se39gj",
            telephone="+44 20 7283 1147",
        ),
        row(
            100002,
            "Odd Phase",
            phase="Kindergarten",
            gender="Unisex",
            postcode="NOT A CODE",
            telephone="2.00203E+12",
        ),
        row("12AB", "Bad URN"),
        row(100004, None),
        row(100001, "Repeated URN"),
        row(None, "No URN School", postcode=None, town="Manchester", telephone=None),
        [None] * 12,  # an entirely empty row is ignored, not counted
    )
    job, status = run_inline(operator_client, data)
    summary = status["summary"]
    counts = summary["counts"]
    assert (counts["rows"], counts["created"], counts["skipped"]) == (6, 3, 3)
    assert counts["rows"] == counts["created"] + counts["updated"] + counts["unchanged"] + counts["skipped"]
    codes = {(p["row"], p["code"]) for p in summary["problems"]}
    assert {
        (3, "unknown_phase"), (3, "unknown_gender"), (3, "invalid_postcode"), (3, "telephone_precision_lost"),
        (4, "invalid_urn"), (5, "missing_name"), (6, "duplicate_urn_in_file"), (7, "missing_postcode"),
    } <= codes  # fmt: skip
    assert "Row 4: The URN must contain digits only." in summary["errors"]
    good = Organization.objects.get(urn="100001")
    assert (good.name, good.phase, good.gender, good.postcode, good.telephone) == (
        "Good School", "16_plus", "girls", "SE3 9GJ", "020 7283 1147",
    )  # fmt: skip
    assert good.geocode_precision == "unit"
    odd = Organization.objects.get(urn="100002")
    assert (odd.phase, odd.gender, odd.postcode, odd.telephone) == (
        "not_applicable",
        "mixed",
        "NOT A CODE",
        "",
    )
    assert odd.geocode_precision == "town"  # an invalid postcode is never geocoded: the town is used
    townonly = Organization.objects.get(name="No URN School")
    assert townonly.urn is None and townonly.geocode_precision == "town"
    assert float(townonly.latitude) == pytest.approx(53.48095, abs=0.01)
    assert summary["rejects_url"] == f"http://testserver/api/organizations/import/status/{job.pk}/rejects/"
    raw, lines = rejects(operator_client, job)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert list(lines[0]) == [*HEADER, "row", "status", "code", "reason", "candidate_urns"]
    assert [(r["row"], r["status"], r["code"]) for r in lines] == [
        ("4", "skipped", "invalid_urn"),
        ("5", "skipped", "missing_name"),
        ("6", "skipped", "duplicate_urn_in_file"),
    ]
    assert lines[0]["URN"] == "12AB" and lines[2]["OrganizationName"] == "Repeated URN"


def test_rejects_csv_neutralises_formulas(operator_client, run_inline):
    """Text that a spreadsheet would run as a formula is stored as text and prefixed in the rejects CSV."""
    data = workbooks.csv_bytes(
        [HEADER, row("x1", '=HYPERLINK("http://evil")'), row(5, "@SUM(1)", telephone="-1")]
    )
    job, _status = run_inline(operator_client, data)
    _raw, lines = rejects(operator_client, job)
    assert lines[0]["OrganizationName"] == '\'=HYPERLINK("http://evil")'
    assert Organization.objects.get(urn="5").name == "@SUM(1)"


def test_no_rejects_is_404(operator_client, run_inline):
    job, _status = run_inline(operator_client, xlsx(row(1, "Only")))
    response = operator_client.get(f"/api/organizations/import/status/{job.pk}/rejects/")
    assert response.status_code == 404


def test_header_variants_and_dfe_names(operator_client, run_inline):
    header = ["urn", "LA (name)", "EstablishmentName", "PhaseOfEducation (name)", "Gender (name)", "Street",
              "Locality", "Address3", "town", "County (name)", "postcode", "TelephoneNum", "Website"]  # fmt: skip
    data = workbooks.xlsx(
        {"Notes": [["just notes"]], "Data": [header, [1, "Kent", "DfE School", "Secondary", "Boys", "High St",
                                                      "Loc", "Addr3", "Dover", "Kent", "CT16 1AA", 1304, "x"]]},
        active="Notes",
    )  # fmt: skip
    _job, status = run_inline(operator_client, data)
    school = Organization.objects.get(urn="1")
    assert (school.local_authority, school.name, school.phase, school.gender) == (
        "Kent",
        "DfE School",
        "secondary",
        "boys",
    )
    assert (school.address_line_1, school.address_line_2, school.county) == ("Loc", "Addr3", "Kent")
    assert {"code": "unknown_column", "value": "Website"}.items() <= status["summary"]["problems"][0].items()


@pytest.mark.parametrize("fmt", ["xls", "ods", "csv"])
def test_other_formats(operator_client, run_inline, fmt):
    rows = [HEADER, row(300001, "Format School", telephone="02072831147")]
    data = {"xls": workbooks.xls, "ods": workbooks.ods}.get(fmt, lambda s: workbooks.csv_bytes(s["S"]))(
        {"S": rows}
    )
    job, status = run_inline(operator_client, data, name="schools.xlsx")
    assert job.file.endswith(f".{fmt}")
    assert status["summary"]["counts"]["created"] == 1
    assert Organization.objects.get(urn="300001").telephone == "020 7283 1147"


# --- upsert and geocoding ---------------------------------------------------------------------------------------


def test_reimport_updates_changed_rows_and_regeocodes(operator_client, run_inline):
    data = xlsx(row(1, "Alpha", postcode="EC3A 5DE"), row(2, "Beta", postcode="EC3A 5DE"), row(3, "Gamma"))
    run_inline(operator_client, data)
    Organization.objects.filter(urn="3").update(
        latitude=10, longitude=10, geocode_precision=GeocodePrecision.MANUAL
    )
    data = xlsx(
        row(1, "Alpha", postcode="EC3A 5DE"),  # unchanged
        row(2, "Beta", postcode="M1 1AE"),  # moved: re-geocoded
        row(3, "Gamma", postcode="M1 1AE", phase="Secondary"),  # manual coordinates are never overwritten
        row(4, "Delta", postcode="ZZ9 9ZZ", town="Atlantis"),  # nowhere: warning not_geocoded
    )
    _job, status = run_inline(operator_client, data)
    counts = status["summary"]["counts"]
    assert (counts["created"], counts["updated"], counts["unchanged"]) == (1, 2, 1)
    assert status["summary"]["organizations_updated"] == 2
    beta = Organization.objects.get(urn="2")
    assert float(beta.latitude) == pytest.approx(M1_1AE[0], abs=0.0005) and beta.geocode_precision == "unit"
    gamma = Organization.objects.get(urn="3")
    assert (gamma.latitude, gamma.geocode_precision, gamma.phase) == (10, "manual", "secondary")
    delta = Organization.objects.get(urn="4")
    assert delta.latitude is None
    assert any(p["row"] == 5 and p["code"] == "not_geocoded" for p in status["summary"]["problems"])


def test_changed_postcode_to_unknown_clears_coordinates(operator_client, run_inline):
    run_inline(operator_client, xlsx(row(1, "Alpha", postcode="EC3A 5DE")))
    run_inline(operator_client, xlsx(row(1, "Alpha", postcode="ZZ9 9ZZ", town=None)))
    alpha = Organization.objects.get(urn="1")
    assert (alpha.postcode, alpha.latitude, alpha.geocode_precision) == ("ZZ9 9ZZ", None, None)


def test_urnless_rows_upsert_by_name_authority_postcode(operator_client, run_inline):
    existing = make_org("St. Mary's C of E Primary", la="Greenwich", urn=None, postcode="SE3 9GJ")
    data = xlsx(
        row(None, "St Marys CE Primary", la="greenwich", postcode="se3 9gj", phase="Primary"),
        row(None, "St Marys CE Primary", la="Greenwich", postcode="SE3 9GK"),  # another school
        row(None, "St Marys CE Primary", la="Greenwich", postcode="SE3 9GK"),  # same as the previous row
    )
    _job, status = run_inline(operator_client, data)
    counts = status["summary"]["counts"]
    assert (counts["created"], counts["updated"], counts["unchanged"]) == (1, 1, 1)
    existing.refresh_from_db()
    assert existing.name == "St Marys CE Primary"
    assert Organization.objects.filter(urn__isnull=True).count() == 2


def test_same_name_in_one_authority_kept(operator_client, run_inline):
    """B2: URN is the key; two "Croxteth Community Primary School" rows in Liverpool are both kept."""
    data = xlsx(
        row(104612, "Croxteth Community Primary School", la="Liverpool", postcode="L11 3BT"),
        row(146768, "Croxteth Community Primary School", la="Liverpool", postcode="L11 3BT"),
    )
    run_inline(operator_client, data)
    assert Organization.objects.filter(name="Croxteth Community Primary School").count() == 2


@pytest.mark.sqlite
def test_dry_run_writes_nothing_and_reports_the_same(operator_client, run_inline):
    make_org("Alpha", urn="1", la="City of London", postcode="EC3A 5DE")
    data = xlsx(row(1, "Alpha renamed"), row(2, "Beta"), row("bad", "Gamma"))
    job, dry = run_inline(operator_client, data, dry_run="true")
    assert job.dry_run is True and dry["summary"]["dry_run"] is True
    assert Organization.objects.count() == 1 and Organization.objects.get().name == "Alpha"
    _raw, lines = rejects(operator_client, job)
    assert [line["code"] for line in lines] == ["invalid_urn"]
    activity = ActivityLog.objects.get(event_type="org_import_completed")
    assert activity.message.startswith("Dry run, nothing was written.")
    _job, real = run_inline(operator_client, data)
    assert real["summary"]["counts"] == dry["summary"]["counts"]
    assert Organization.objects.count() == 2


# --- bad spreadsheets -------------------------------------------------------------------------------------------


@pytest.mark.sqlite
def test_wrong_headers_fail_the_job_with_a_reason(operator_client, operator, run_inline):
    data = workbooks.xlsx({"S": [["School", "Council"], ["A", "B"]]})
    job, status = run_inline(operator_client, data)
    assert status["status"] == "failed" and status["summary"] is None
    assert status["error"].startswith("Missing required column(s): LocalAuthority, OrganizationName.")
    assert not Organization.objects.exists()
    activity = ActivityLog.objects.get(event_type="import_failed")
    assert (
        activity.severity == "error" and activity.actor == operator and "Missing required" in activity.message
    )
    job.refresh_from_db()
    assert job.finished_at is not None


def test_empty_workbook_and_garbage_rows(operator_client, run_inline):
    _job, status = run_inline(operator_client, workbooks.xlsx({"S": []}))
    assert status["status"] == "failed" and "header" in status["error"].lower()
    garbage = xlsx(*[[None, None, None, None, None, None, None, None, "junk", 3.5, True, None]] * 3)
    _job, status = run_inline(operator_client, garbage)
    assert status["status"] == "completed"
    counts = status["summary"]["counts"]
    assert (counts["rows"], counts["skipped"], counts["created"]) == (3, 3, 0)


def test_uncalculated_formulas_are_reported(operator_client, run_inline):
    data = xlsx(row(1, '=CONCAT("A","B")'), row(2, "Plain", town='=UPPER("x")'))
    _job, status = run_inline(operator_client, data)
    codes = [(p["row"], p["code"], p["severity"]) for p in status["summary"]["problems"]]
    assert (2, "formula_without_value", "error") in codes and (3, "formula_without_value", "warning") in codes
    assert list(Organization.objects.values_list("urn", flat=True)) == ["2"]


def test_failure_mid_file_keeps_committed_chunks_and_says_so(
    operator_client, run_inline, settings, monkeypatch
):
    """One transaction per chunk: a failure in chunk 2 leaves chunk 1 imported and the job failed with the
    partial summary — nothing half-imported silently."""
    settings.IMPORT_CHUNK_ROWS = 2
    original = imports.OrganizationImport._write_chunk
    calls = {"n": 0}

    def flaky(self, results):
        calls["n"] += 1
        if calls["n"] == 2:
            Organization.objects.create(name="half", local_authority="x")  # rolled back with the chunk
            raise imports.ImportFailed("Disk on fire.")
        return original(self, results)

    monkeypatch.setattr(imports.OrganizationImport, "_write_chunk", flaky)
    _job, status = run_inline(operator_client, xlsx(*[row(i, f"School {i}") for i in range(1, 6)]))
    assert status["status"] == "failed" and status["error"] == "Disk on fire."
    assert sorted(Organization.objects.values_list("urn", flat=True)) == ["1", "2"]
    assert status["summary"]["counts"]["created"] == 2
    assert ActivityLog.objects.filter(event_type="import_failed").count() == 1


def test_missing_workbook_fails_without_retry(operator_client, django_capture_on_commit_callbacks):
    """B3/B5: a job whose input is gone fails with a reason; it is not retried."""
    response = upload(operator_client, xlsx(row(1, "A")))
    job = ImportJob.objects.get(pk=response.json()["task_id"])
    default_storage.delete(job.file)
    imports.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "no longer available" in job.error


def test_a_hundred_thousand_rows_give_a_bounded_report(operator_client, run_inline):
    rows = [HEADER] + [
        ["", "Kent", "" if i % 100 else f"School {i}", "Primary", "", "", "", "", "Dover", "", "", ""]
        for i in range(100_000)
    ]
    job, status = run_inline(operator_client, workbooks.csv_bytes(rows), name="big.xlsx")
    summary = status["summary"]
    assert status["status"] == "completed"
    assert summary["counts"]["rows"] == 100_000
    assert summary["counts"]["created"] == 1_000 and summary["counts"]["skipped"] == 99_000
    assert len(summary["problems"]) == 1000 and summary["problems_truncated"] is True
    assert len(summary["errors"]) == 1000
    _raw, lines = rejects(operator_client, job)
    assert len(lines) == 99_000
    job.refresh_from_db()
    assert (job.rows_done, job.rows_total) == (100_000, 100_000)


# --- retention and commands -------------------------------------------------------------------------------------


def test_purge_import_files(operator_client, run_inline, eager_celery):
    old, _ = run_inline(operator_client, xlsx(row(1, "A")))
    recent, _ = run_inline(operator_client, xlsx(row(2, "B")))
    ImportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    from organizations.tasks import purge_import_files

    assert purge_import_files.delay().get() == 1
    old.refresh_from_db()
    assert old.file == "" and not default_storage.exists(f"imports/{old.pk}/{old.file_sha256}.xlsx")
    assert default_storage.exists(ImportJob.objects.get(pk=recent.pk).file)


def test_beat_schedule_has_the_purge():
    from cvengine.celery import app

    entry = app.conf.beat_schedule["organizations.purge_import_files"]
    assert entry["task"] == "organizations.purge_import_files" and entry["schedule"] == 24 * 3600.0


@pytest.mark.sqlite
def test_management_command_with_progress_and_dry_run(tmp_path):
    path = tmp_path / "schools.xlsx"
    path.write_bytes(xlsx(row(1, "A"), row(2, "B"), row("x", "C")))
    out = io.StringIO()
    call_command("import_organizations", str(path), "--dry-run", stdout=out)
    text = out.getvalue()
    assert "Dry run: 3 rows" in text and "2 created" in text and "rows read" in text
    assert not Organization.objects.exists()
    out = io.StringIO()
    call_command("import_organizations", str(path), stdout=out)
    assert Organization.objects.count() == 2 and "completed" in out.getvalue()
    assert "Rejected rows:" in out.getvalue()
    with pytest.raises(CommandError, match=r"Only \.xlsx files are supported"):
        bad = tmp_path / "bad.xlsx"
        bad.write_bytes(b"%PDF-1.4")
        call_command("import_organizations", str(bad), stdout=io.StringIO())


@pytest.mark.worker
def test_real_worker_imports_from_object_storage(celery_worker, transactional_db, operator_client):
    """Web and worker share no disk: the worker process reads the workbook from object storage."""
    import time

    response = upload(operator_client, xlsx(row(900001, "Worker School")))
    assert response.status_code == 202
    url = f"/api/organizations/import/status/{response.json()['task_id']}/"
    deadline = time.monotonic() + 60
    while (body := operator_client.get(url).json())["status"] in ("pending", "processing"):
        assert time.monotonic() < deadline, body
        time.sleep(0.2)
    assert body["status"] == "completed", body
    assert Organization.objects.filter(urn="900001", geocode_precision="unit").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="VACUUM runs on PostgreSQL only")
def test_a_finished_import_vacuums_and_analyses_its_table():
    """Statistics for the new rows at once, dead row versions reclaimed (radius search reads neither)."""
    job = imports.start_import(
        "organizations", ContentFile(xlsx(row(1, "A"), row(2, "B")), name="s.xlsx"), False, enqueue=False
    )
    with CaptureQueriesContext(connection) as queries:
        imports.run_job(job.pk)
    assert Organization.objects.count() == 2
    assert any(q["sql"] == 'VACUUM (ANALYZE) "organizations_organization"' for q in queries.captured_queries)
