import pytest

from core.rendering import TEMPLATE_VERSION, RenderError, build_context, canonical_context, context_hash
from core.rendering.context import MAX_BULLETS, MAX_JOBS, town_only
from tests.core.rendering.samples import make_cv, pii

RENDERED_KEYS = [
    "given_name",
    "role_line",
    "location",
    "availability",
    "profile",
    "interests",
    "employment_history",
    "qualifications",
]


def test_build_context_keeps_only_rendered_fields():
    context = build_context(make_cv(1))

    assert list(context) == RENDERED_KEYS
    assert context["given_name"] == "Siobhán"
    assert context["location"] == "Liverpool"
    assert set(context["employment_history"][0]) == {"company", "role", "date_range", "responsibilities"}
    flat = repr(context)
    for value in ("Súilleabháin", "@example.com", "7700", "LS6 2AB", "Acacia", "Safeguarding"):
        assert value not in flat


@pytest.mark.parametrize(
    ("given_name", "cv_name", "full_name", "expected"),
    [
        ("Mary Jane", "Mary", "Mary Jane Smith", "Mary Jane"),  # name_without_surname wins
        ("  ", "Łucja", "Łucja Wiśniewska", "Łucja"),  # then data_extracted.name
        (None, "", "Siobhán Ó Súilleabháin", "Siobhán"),  # then the first token of the full name
        (None, None, None, "Candidate"),  # then the neutral fallback
    ],
)
def test_given_name_fallback_chain(given_name, cv_name, full_name, expected):
    context = build_context({"name": cv_name}, given_name=given_name, full_name=full_name)
    assert context["given_name"] == expected


def test_role_line_prefers_job_titles_and_deduplicates():
    cv = {"role": ["Teaching Assistant", "Cover Supervisor"]}

    assert build_context(cv)["role_line"] == "Teaching Assistant | Cover Supervisor"
    roles = ["Primary Teacher", "primary teacher ", "SENCo"]
    assert build_context(cv, roles=roles)["role_line"] == "Primary Teacher | SENCo"
    assert build_context(cv, roles=[])["role_line"] == "Teaching Assistant | Cover Supervisor"
    assert build_context({"role": "Head of Science"})["role_line"] == "Head of Science"


@pytest.mark.parametrize(
    ("location", "town"),
    [
        ("Leeds", "Leeds"),
        ("Flat 3, 12 Oak Road, Leeds LS6 2AB", "Leeds"),
        ("Tower Hamlets, London E1 6AN", "Tower Hamlets, London"),
        ("Croydon CR0", "Croydon"),
        ("SW1A 1AA", ""),
        ("Newcastle upon Tyne", "Newcastle upon Tyne"),
        ("Leeds (LS6)", "Leeds"),
    ],
)
def test_town_only_drops_street_and_postcode(location, town):
    assert town_only(location) == town


def test_town_override_reduced_to_town_and_falls_back_to_cv_location():
    cv = {"location": "Leeds"}

    assert (
        build_context(cv, town=pii(0)["location"])["location"] == "Bradford"
    )  # "10 Acacia Avenue, Bradford …"
    assert build_context(cv, town="Wakefield")["location"] == "Wakefield"
    assert build_context(cv, town="WF1 2AB")["location"] == "Leeds"  # nothing town-level left in the override


def test_build_context_caps_lists_at_schema_limits():
    context = build_context(make_cv(2, jobs=MAX_JOBS + 5, bullets=MAX_BULLETS))
    cv = make_cv(2)
    cv["employment_history"][0]["responsibilities"] = [f"Duty {i}" for i in range(40)]

    assert len(context["employment_history"]) == MAX_JOBS
    assert len(build_context(cv)["employment_history"][0]["responsibilities"]) == MAX_BULLETS


def test_build_context_accepts_stored_variants():
    context = build_context(
        {
            "interests": ["Chess", " ", "Choir"],
            "qualifications": "QTS",
            "employment_history": [
                {"date_range": 2019, "company": "Oakwood Academy", "responsibilities": "Taught"}
            ],
        }
    )

    assert context["interests"] == "Chess, Choir"
    assert context["qualifications"] == ["QTS"]
    assert context["employment_history"] == [
        {"company": "Oakwood Academy", "role": "", "date_range": "2019", "responsibilities": ["Taught"]}
    ]


def test_canonical_context_normalises_text():
    context = canonical_context(
        {
            "given_name": "  Zoë\x00 ",
            "profile": "First line\r\nwrapped here.\n \n\n\nSecond\tparagraph.\x07",
            "employment_history": [
                {"company": " Oakwood\n Academy ", "responsibilities": ["  Led  phonics ", "", "   "]},
                {"company": "", "role": " ", "date_range": "", "responsibilities": []},
            ],
            "qualifications": ["", " PGCE "],
        }
    )

    assert context["given_name"] == "Zoë"
    assert context["profile"] == "First line wrapped here.\n\nSecond paragraph."
    assert context["employment_history"] == [
        {"company": "Oakwood Academy", "role": "", "date_range": "", "responsibilities": ["Led phonics"]}
    ]
    assert context["qualifications"] == ["PGCE"]
    assert canonical_context(context) == context  # idempotent


def test_unicode_is_normalised_to_nfc():
    decomposed = "Siobha\u0301n"
    assert canonical_context({"given_name": decomposed})["given_name"] == "Siobhán"
    assert context_hash({"given_name": decomposed}) == context_hash({"given_name": "Siobhán"})


def test_lone_surrogates_are_removed():
    assert canonical_context({"given_name": "Ana\udcff"})["given_name"] == "Ana"


@pytest.mark.parametrize(
    ("context", "fragment"),
    [
        ({"email": "x@example.com"}, "Unknown context field(s): email"),
        ({"employment_history": [{"company": "A", "phone": "07700900000"}]}, "employment_history[0]: phone"),
        ({"given_name": ["Ana"]}, "given_name must be text"),
        ({"employment_history": "Oakwood"}, "employment_history must be a list"),
        ({"employment_history": ["Oakwood"]}, "employment_history[0] must be a mapping"),
        ({"qualifications": [None, 3.5]}, "qualifications[1] must be text"),
        ("not a mapping", "Context must be a mapping"),
    ],
)
def test_malformed_context_is_refused_with_a_code(context, fragment):
    with pytest.raises(RenderError) as caught:
        canonical_context(context)

    assert caught.value.code == "invalid_context"
    assert fragment in caught.value.message


def test_oversized_context_is_refused():
    with pytest.raises(RenderError) as caught:
        canonical_context({"profile": "word " * 100_000})
    assert caught.value.code == "context_too_large"


def test_build_context_refuses_non_mapping_content():
    with pytest.raises(RenderError) as caught:
        build_context(["not", "a", "cv"])
    assert caught.value.code == "invalid_context"


def test_context_hash_depends_only_on_rendered_content_and_template_version():
    cv = make_cv(3)
    base = context_hash(build_context(cv))
    changed_contact = make_cv(3)
    changed_contact["personal_info"]["email"] = "new.address@example.com"
    changed_contact["email_body"] = "Completely different outreach text"
    reordered = dict(reversed(list(build_context(cv).items())))
    spaced = build_context(cv) | {"given_name": "  فاطمة  "}

    assert len(base) == 64 and int(base, 16) >= 0
    assert context_hash(build_context(cv)) == base
    assert context_hash(build_context(changed_contact)) == base
    assert context_hash(reordered) == base
    assert context_hash(spaced) == base
    assert context_hash(build_context(cv, town="Coventry")) != base
    assert context_hash(build_context(cv), template_version=TEMPLATE_VERSION + "-next") != base
