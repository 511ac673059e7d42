"""Quality verdict (pipeline.md §7.3): first match decides, every matching reason is recorded."""

from core.extraction.quality import FAIL, MANUAL, PASS, assess_quality, reason_message

GOOD = {"full_name": "Amara Okafor", "given_name": "Amara", "email": "a@example.org"}


def test_pass_with_six_months():
    verdict = assess_quality(experience_months=6, **GOOD)
    assert (verdict.check, verdict.reasons, verdict.candidate_status) == (PASS, [], "passed")


def test_fail_below_six_months():
    verdict = assess_quality(experience_months=5, **GOOD)
    assert (verdict.check, verdict.reasons, verdict.candidate_status) == (
        FAIL,
        ["insufficient_experience"],
        "failed",
    )


def test_no_text_layer_wins_and_all_reasons_are_kept():
    verdict = assess_quality(
        experience_months=0, full_name=None, given_name=None, email=None, no_text_layer=True
    )
    assert verdict.check == MANUAL
    assert verdict.reasons == ["no_text_layer", "missing_name", "missing_email", "insufficient_experience"]


def test_ocr_text_goes_to_manual_review():
    verdict = assess_quality(experience_months=40, ocr_used=True, **GOOD)
    assert (verdict.check, verdict.reasons) == (MANUAL, ["text_from_ocr"])


def test_missing_name_or_email():
    assert assess_quality(
        experience_months=40, full_name="Amara Okafor", given_name=None, email="a@b.org"
    ).reasons == ["missing_name"]
    verdict = assess_quality(experience_months=40, full_name="Amara Okafor", given_name="Amara", email=None)
    assert (verdict.check, verdict.reasons, verdict.candidate_status) == (MANUAL, ["missing_email"], "manual")


def test_grounding_and_fallback_reasons():
    verdict = assess_quality(
        experience_months=2, ungrounded_fields=["email", "phone"], offline_fallback=True, **GOOD
    )
    assert verdict.check == MANUAL
    assert verdict.reasons == [
        "ungrounded_email",
        "ungrounded_phone",
        "offline_fallback",
        "insufficient_experience",
    ]


def test_reason_messages_are_human():
    assert reason_message("no_text_layer") == "scanned or image-only document"
    assert reason_message("ungrounded_full_name") == "full name not found in the CV text"
