"""AIAnalysisResult limits, the strict JSON schema, the stored result and CVDataInput."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from core.extraction.schema import (
    AIAnalysisResult,
    analysis_json_schema,
    build_stored_result,
    openai_response_format,
    validate_analysis,
    validate_cv_data,
)


def analysis(**overrides):
    data = {
        "name": "Amara",
        "role": ["Class Teacher"],
        "location": "Leeds",
        "availability": "",
        "professional_profile": "Amara is an experienced Class Teacher.",
        "employment_history": [
            {"date_range": "Sept 2019 - Present", "role": "Class Teacher", "company": "Oak Primary School",
             "responsibilities": ["Planned lessons"]}
        ],
        "qualifications": ["QTS"],
        "interests": None,
        "email_subject": "Class Teacher available",
        "email_body": "I would like to introduce Amara.\n\n- QTS",
        "extracted_personal_info": {
            "full_name": "Amara Okafor", "email": "Amara.Okafor@Example.org", "whatsapp": "07700 900123",
            "location": "Leeds", "postcode": "LS6 2AB", "skills": ["Phonics"], "total_years_experience": 5.5,
            "experience_summary": "5.5 Years",
        },
    }  # fmt: skip
    data.update(overrides)
    return data


def test_valid_result_is_normalised():
    result, warnings = validate_analysis(analysis())
    assert warnings == []
    assert result.extracted_personal_info.email == "amara.okafor@example.org"
    assert result.extracted_personal_info.whatsapp == "+447700900123"


def test_limits_truncate_at_a_word_boundary_with_a_warning():
    long_name = "word " * 40
    result, warnings = validate_analysis(analysis(name=long_name, role=[f"Role {i}" for i in range(14)]))
    assert len(result.name) <= 100 and not result.name.endswith(" ") and result.name.endswith("word")
    assert len(result.role) == 10
    assert warnings == ["truncated_name", "truncated_role"]


def test_responsibility_limits():
    job = {"date_range": "2019", "role": "TA", "company": "X", "responsibilities": ["duty " * 200] * 20}
    result, warnings = validate_analysis(analysis(employment_history=[job]))
    duties = result.employment_history[0].responsibilities
    assert len(duties) == 15 and all(len(d) <= 500 for d in duties)
    assert set(warnings) == {"truncated_responsibilities"}


def test_invalid_email_becomes_null_with_warning():
    info = analysis()["extracted_personal_info"] | {"email": "not an email"}
    result, warnings = validate_analysis(analysis(extracted_personal_info=info))
    assert result.extracted_personal_info.email is None
    assert warnings == ["invalid_email"]


def test_wrong_types_and_missing_fields_are_errors():
    with pytest.raises(ValidationError):
        validate_analysis(analysis(role="Teacher"))
    data = analysis()
    del data["email_body"]
    with pytest.raises(ValidationError):
        validate_analysis(data)


def _objects(node):
    if isinstance(node, dict):
        if node.get("type") == "object":
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def test_json_schema_is_strict():
    schema = analysis_json_schema()
    objects = list(_objects(schema))
    assert len(objects) == 3  # result, employment entry, personal info
    for obj in objects:
        assert obj["additionalProperties"] is False
        assert sorted(obj["required"]) == sorted(obj["properties"])
    text = str(schema)
    assert "'default'" not in text and "'title'" not in text
    assert schema["properties"]["interests"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert openai_response_format()["json_schema"]["strict"] is True


def test_schema_round_trip_every_schema_key_is_a_model_field():
    schema = analysis_json_schema()
    assert set(schema["properties"]) == set(AIAnalysisResult.model_fields)


def test_stored_result_shape():
    result, _ = validate_analysis(analysis())
    stored = build_stored_result(
        result, quality_check="pass", quality_reasons=[], experience_months=66, provider="offline", model=None,
        warnings=["w", "w"], job_role=["Teacher"], stated_years_experience=5.0,
        generated_at=datetime(2025, 3, 15, tzinfo=UTC),
    )  # fmt: skip
    assert stored["status"] == "success" and stored["quality_check"] == "pass"
    assert stored["extracted_photo_url"] is None
    assert list(stored["data_extracted"]) == [
        "name", "role", "location", "availability", "professional_profile", "employment_history",
        "qualifications", "interests", "email_subject", "email_body",
    ]  # fmt: skip
    assert stored["personal_info"] == {
        "full_name": "Amara Okafor", "email": "amara.okafor@example.org", "whatsapp": "+447700900123",
        "skill": ["Phonics"], "job_role": ["Teacher"], "experience": "5.5 Years", "location": "Leeds",
    }  # fmt: skip
    assert stored["schema_version"] == 2 and stored["provider"] == "offline" and stored["model"] is None
    assert stored["experience_months"] == 66 and stored["stated_years_experience"] == 5.0
    assert stored["postcode"] == "LS6 2AB" and stored["warnings"] == ["w"]
    assert stored["generated_at"] == "2025-03-15T00:00:00+00:00"


def test_fresher_in_stored_result():
    result, _ = validate_analysis(analysis())
    stored = build_stored_result(result, quality_check="fail", quality_reasons=["insufficient_experience"],
                                 experience_months=0, provider="offline", model=None, warnings=[])  # fmt: skip
    assert stored["personal_info"]["experience"] == "Fresher"


def test_cv_data_input():
    data = {k: v for k, v in analysis().items() if k not in ("extracted_personal_info", "interests")}
    cv, warnings = validate_cv_data(data)
    assert cv.interests is None and warnings == []
    with pytest.raises(ValidationError):
        validate_cv_data({k: v for k, v in data.items() if k != "employment_history"})
