"""The accuracy harness: scoring rules and a small end-to-end run."""

from dataclasses import asdict
from datetime import date

from core.extraction.eval import FIELDS, TARGETS, evaluate, format_report, main, score_cv, set_f1
from tests.cvgen.profile import make_profile

TODAY = date(2025, 3, 15)


def perfect_summary(profile) -> dict:
    return {
        "full_name": profile.full_name.upper(),
        "given_name": profile.given_name,
        "email": profile.email.upper() or None,
        "phone": profile.phone,  # compared as E.164
        "location": profile.location,
        "postcode": profile.postcode,
        "job_titles": profile.job_titles,
        "skills": list(reversed(profile.skills)),
        "qualifications": profile.qualifications,
        "employment_history": [asdict(j) | {"employer": j.employer} for j in profile.jobs],
        "education": [asdict(e) for e in profile.education],
        "experience_months": profile.total_months,
        "has_photo": profile.has_photo,
        "quality_check": profile.expected_quality,
    }


def test_set_f1():
    assert set_f1([], []) == 1.0
    assert set_f1(["a", "b"], ["a"]) == 2 / 3
    assert set_f1(["a"], []) == 0.0


def test_perfect_summary_scores_one_everywhere():
    for seed in range(20):
        profile = make_profile(seed, TODAY)
        assert set(score_cv(profile, perfect_summary(profile)).values()) == {1.0}, seed


def test_wrong_values_lose_points():
    profile = make_profile(3, TODAY)
    summary = perfect_summary(profile) | {
        "phone": "+441134960000",
        "skills": profile.skills[:1],
        "has_photo": None,
    }
    scores = score_cv(profile, summary)
    assert (
        scores["phone"] == 0
        and 0 < scores["skills"] < 1
        and scores["has_photo"] == float(not profile.has_photo)
    )


def test_evaluate_end_to_end_on_text_and_scanned_layouts(tmp_path):
    report = evaluate(range(5), today=TODAY, layouts=["txt", "scan"], workdir=tmp_path, ocr=False)
    assert report.cv_count == 5 and len(report.scanned_flags) == 2
    assert report.scanned_flagged == 1.0
    assert set(report.field_scores) == set(FIELDS)
    assert report.accuracy("email") == 1.0
    table = format_report(report)
    assert "overall" in table and "scanned flagged" in table


def test_main_exit_status_reflects_targets(capsys, tmp_path):
    assert set(TARGETS) == {"overall", "email", "phone", "scanned flagged"}
    status = main(["--seeds", "0-2", "--layouts", "txt", "--no-ocr"])
    out = capsys.readouterr().out
    assert "email" in out and status in (0, 1)
    assert status == (1 if "BELOW TARGET" in out else 0)
