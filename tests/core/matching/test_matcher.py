import pytest

from core.matching.matcher import (
    MatchQuery,
    School,
    SchoolIndex,
    address_tokens,
    is_shared_mail_domain,
    match_contacts,
)

BD = "Barking and Dagenham"
SCHOOLS = [
    School(1, "101200", "Dorothy Barley Infants' School", BD, "Dagenham", "Davington Road", "RM8 2LL"),
    School(2, "138000", "Dorothy Barley Junior Academy", BD, "Dagenham", "Ivyhouse Road", "RM9 5QB"),
    School(3, "101201", "Manor Junior School", BD, "Barking", "Sandringham Road", "IG11 9AG"),
    School(4, "101235", "St Joseph's Catholic Primary School", BD, "Barking", "The Broadway", "IG11 7AR"),
    School(5, "101236", "St Joseph's Catholic Primary School", BD, "Dagenham", "Connor Road", "RM9 5UL"),
    School(6, "101300", "St. Mary's C of E Primary", BD, "Barking", "High Street", "IG11 8AA"),
    School(
        7,
        "118614",
        "St Peter's Church of England Primary School",
        "Kent",
        "Tunbridge Wells",
        "Windmill Street",
        "TN2 4UU",
    ),
    School(
        8,
        "118617",
        "St Peter's Church of England Primary School",
        "Kent",
        "Aylesford",
        "Mount Pleasant",
        "ME20 7BE",
    ),
    School(
        9, "117305", "Mandeville Primary School", "Hertfordshire", "Sawbridgeworth", "West Road", "CM21 0BL"
    ),
    School(
        10, "139159", "Mandeville Primary School", "Hertfordshire", "St Albans", "Mandeville Drive", "AL1 2LE"
    ),
    School(
        11, "118000", "Greenfields Community Primary School", "Kent", "Maidstone", "Oxford Road", "ME15 8DF"
    ),
    School(12, "118100", "Oak Infant School", "Kent", "Sevenoaks", "Oak Lane", "TN13 1AA"),
    School(13, "118101", "Oak Junior School", "Kent", "Tonbridge", "Elm Lane", "TN9 1AA"),
    School(14, "118200", "Hope Academy", "Kent", "Dover", "Castle Street", "CT16 1AA"),
    School(15, "118201", "Hope", "Kent", "Deal", "Beach Street", "CT14 6AA"),
    School(16, None, "St Anne's Primary School", "Surrey", "Banstead", "Court Road", "SM7 2PH"),
    School(17, "125220", "St Anne's Primary School", "Surrey", "Chertsey", "Free Prae Road", "KT16 8ET"),
]


@pytest.fixture(scope="module")
def index():
    return SchoolIndex(SCHOOLS)


def match(index, name, la=BD, email=None, urn=None, known=None):
    return index.match(MatchQuery(la, name, email, urn), known)


def test_t1_exact_name_ignoring_case_and_spacing(index):
    result = match(index, "  manor junior SCHOOL ")
    assert (result.status, result.organization_id, result.method) == ("linked", 3, "T1")


def test_t2_normalised_name(index):
    result = match(index, "St Marys CE Primary")
    assert (result.status, result.organization_id, result.method) == ("linked", 6, "T2")


def test_t3_abbreviated_names(index):
    assert (match(index, "Manor Junior").organization_id, match(index, "Manor Junior").method) == (3, "T3")
    infants = match(index, "Dorothy Barley Infants'")
    assert (infants.status, infants.organization_id, infants.method) == ("linked", 1, "T3")


def test_dorothy_barley_infants_and_junior_never_merge(index):
    assert match(index, "Dorothy Barley Infants'").organization_id == 1
    assert match(index, "Dorothy Barley Junior").organization_id == 2
    both = match(index, "Dorothy Barley")
    assert both.status == "ambiguous" and both.method == "T4"
    assert set(both.candidate_urns) == {"101200", "138000"}


def test_t4_links_only_a_single_remaining_school(index):
    result = match(index, "Greenfields Primary", la="Kent")
    assert (result.status, result.organization_id, result.method) == ("linked", 11, "T4")


def test_t4_tie_is_ambiguous_even_with_a_telling_email(index):
    result = match(index, "Oak", la="Kent", email="head@oak-sevenoaks.kent.sch.uk")
    assert result.status == "ambiguous"
    assert result.organization_id is None
    assert set(result.candidate_ids) == {12, 13}


def test_first_tier_with_any_school_decides(index):
    # T3 would tie "Hope Academy" with "Hope"; T1 already found exactly one.
    assert match(index, "Hope Academy", la="Kent").organization_id == 14
    assert match(index, "HOPE", la="Kent").organization_id == 15


def test_same_named_schools_tie_without_evidence(index):
    result = match(index, "St Joseph's Catholic Primary", email="office@stjosephs.bardaglea.org.uk")
    assert result.status == "ambiguous"
    assert result.method == "T3"
    assert result.candidate_urns == ("101235", "101236")
    assert "101235, 101236" in result.reason


def test_evidence_a_urn_decides(index):
    result = match(index, "St Joseph's Catholic Primary", urn="101236")
    assert (result.status, result.organization_id, result.method) == ("linked", 5, "urn")
    unknown = match(index, "St Joseph's Catholic Primary", urn="999999")
    assert unknown.status == "ambiguous"


def test_evidence_b_email_already_linked(index):
    known = {"head@stjosephs.bardaglea.org.uk": 5}
    result = match(
        index, "St Joseph's Catholic Primary", email="head@stjosephs.bardaglea.org.uk", known=known
    )
    assert (result.status, result.organization_id, result.method) == ("linked", 5, "evidence_email")
    elsewhere = {"head@stjosephs.bardaglea.org.uk": 3}  # linked to a school that is not one of the tied ones
    assert (
        match(
            index, "St Joseph's Catholic Primary", email="head@stjosephs.bardaglea.org.uk", known=elsewhere
        ).status
        == "ambiguous"
    )


def test_evidence_c_barking_and_dagenham_st_josephs(index):
    barking = match(index, "St Joseph's Catholic Primary", email="headteacher@st-jobarking.bardaglea.org.uk")
    assert (barking.status, barking.organization_id, barking.method) == ("linked", 4, "evidence_token")
    dagenham = match(index, "St Joseph's Catholic Primary", email="head@stjosephs-dagenham.bardaglea.org.uk")
    assert dagenham.organization_id == 5


def test_evidence_c_tokens_for_both_schools_is_no_evidence(index):
    result = match(index, "St Joseph's Catholic Primary", email="barking-and-dagenham@stjosephs.org.uk")
    assert result.status == "ambiguous"


def test_evidence_c_ignores_words_of_the_school_name(index):
    # "Mandeville Drive" is the street of one of the two Mandeville Primary Schools; the address names both.
    result = match(index, "Mandeville Primary", la="Hertfordshire", email="head@mandeville.herts.sch.uk")
    assert result.status == "ambiguous"
    assert "mandeville" not in address_tokens(SCHOOLS[9])


def test_evidence_c_uses_the_postcode_district(index):
    result = match(index, "St Peter's CofE Primary", la="Kent", email="office@stpeters-me20.kent.sch.uk")
    assert (result.organization_id, result.method) == (8, "evidence_token")


def test_evidence_d_domain_linked_by_other_rows_of_the_file(index):
    queries = [
        MatchQuery("Surrey", "St Anne's Primary", "head@stannes.surrey.sch.uk"),
        MatchQuery("Surrey", "St Anne's Primary", "office@stannes.surrey.sch.uk", urn="125220"),
    ]
    first, second = match_contacts(index, queries)
    assert (first.status, first.organization_id, first.method) == ("linked", 17, "evidence_domain")
    assert second.method == "urn"


def test_evidence_d_needs_a_domain_linked_to_a_single_school(index):
    queries = [
        MatchQuery("Surrey", "St Anne's Primary", "head@trust.org.uk"),
        MatchQuery("Surrey", "St Anne's Primary", "office@trust.org.uk", urn="125220"),
        MatchQuery(BD, "Manor Junior", "manor@trust.org.uk"),  # the same trust domain, another school
    ]
    assert match_contacts(index, queries)[0].status == "ambiguous"


@pytest.mark.parametrize("domain", ["gmail.com", "hotmail.co.uk", "surreycc.gov.uk"])
def test_evidence_d_never_uses_shared_mail_domains(index, domain):
    assert is_shared_mail_domain(domain)
    queries = [
        MatchQuery("Surrey", "St Anne's Primary", f"head.stannes@{domain}"),
        MatchQuery("Surrey", "St Anne's Primary", f"office.stannes@{domain}", urn="125220"),
    ]
    assert match_contacts(index, queries)[0].status == "ambiguous"


def test_a_school_without_urn_can_still_be_matched_and_listed(index):
    result = match(index, "St Anne's Primary", la="Surrey", email="head@stannes-banstead.surrey.sch.uk")
    assert (result.organization_id, result.method) == (16, "evidence_token")
    tie = match(index, "St Anne's Primary", la="Surrey")
    assert tie.candidate_ids == (16, 17)
    assert tie.candidate_urns == ("125220",)


def test_local_authority_is_compared_normalised(index):
    assert match(index, "Manor Junior", la="barking & DAGENHAM").organization_id == 3


def test_only_schools_of_the_same_authority_are_candidates(index):
    assert match(index, "Manor Junior", la="Kent").status == "unmatched"


def test_unknown_local_authority_suggests_close_names(index):
    result = match(index, "Manor Junior", la="Barking and Dagenam")
    assert result.status == "unknown_local_authority"
    assert result.suggestions == (BD,)
    assert result.organization_id is None


def test_unmatched_gets_fuzzy_suggestions_but_no_link(index):
    result = match(index, "Manr Junior")
    assert result.status == "unmatched"
    assert result.organization_id is None
    assert result.suggestions[0] == f"Manor Junior School, {BD} (URN 101201)"
    assert match(index, "Zzyzx Qwerty").suggestions == ()


def test_garbled_name_matches_nothing(index):
    assert match(index, "Madgheadteacherrd Primary").status == "unmatched"


def test_reason_texts(index):
    assert match(index, "Manor Junior").reason == "Linked by T3."
    assert "No school" in match(index, "Nowhere").reason
    assert "local authority" in match(index, "Manor", la="Atlantis").reason
