"""``cvengine extract``: one JSON per CV, unreadable files still get a manual-review JSON."""

import json
from datetime import date

import pytest

from core.cli import main
from tests.cvgen.layouts import LAYOUTS
from tests.cvgen.profile import make_profile

TODAY = date(2025, 3, 15)
KEYS = {
    "full_name", "given_name", "email", "phone", "location", "postcode", "job_titles", "skills", "qualifications",
    "employment_history", "education", "total_years_experience", "has_photo", "quality_check", "quality_reasons",
}  # fmt: skip


def first_seed(layout: str, *, email: bool = True) -> int:
    return next(s for s in range(200) if bool(make_profile(s, TODAY, layout).email) == email and
                make_profile(s, TODAY, layout).total_months >= 6)  # fmt: skip


@pytest.mark.parametrize("layout", ["txt", "docx_table", "pdf_two_column"])
def test_extract_writes_one_json_per_cv(tmp_path, layout, capsys):
    seed = first_seed(layout)
    profile = make_profile(seed, TODAY, layout)
    source = LAYOUTS[layout](profile, tmp_path / f"cv-{layout}")
    assert main(["extract", str(source), "--out", str(tmp_path / "out"), "--today", "2025-03-15"]) == 0
    result = json.loads((tmp_path / "out" / f"cv-{layout}.json").read_text())
    assert set(result) >= KEYS
    assert result["email"] == profile.email.lower() and result["phone"] == profile.phone_e164
    assert result["full_name"].casefold() == profile.full_name.casefold()
    assert result["quality_check"] == "pass" and result["quality_reasons"] == []
    for job in result["employment_history"]:
        assert set(job) == {"role", "employer", "start", "end", "responsibilities"}
        assert job["end"] == "present" or len(job["end"]) == 7
    assert "pass" in capsys.readouterr().out


def test_unreadable_files_get_a_manual_review_json(tmp_path):
    png = tmp_path / "photo.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    scan = LAYOUTS["scan"](make_profile(1, TODAY, "scan"), tmp_path / "scanned")
    assert main(["extract", str(png), str(scan), "--out", str(tmp_path), "--no-ocr"]) == 0
    for name, code in (("photo", "unsupported_type"), ("scanned", "no_text_layer")):
        result = json.loads((tmp_path / f"{name}.json").read_text())
        assert result["quality_check"] == "manual review"
        assert result["quality_reasons"] == [code] and result["error"]["code"] == code


def test_same_stem_twice_and_missing_file(tmp_path, capsys):
    profile = make_profile(first_seed("txt"), TODAY, "txt")
    one = LAYOUTS["txt"](profile, tmp_path / "cv")
    two = LAYOUTS["rtf"](profile, tmp_path / "cv")
    assert (
        main(["extract", str(one), str(two), str(tmp_path / "nope.pdf"), "--out", str(tmp_path / "o")]) == 1
    )
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["cv.json", "cv.rtf.json"]
    assert "nope.pdf: no such file" in capsys.readouterr().err


def test_bad_arguments_exit_with_usage(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["extract", "x.pdf", "--out", "o", "--today", "yesterday"])
    assert exc.value.code == 2 and "not a date" in capsys.readouterr().err
