import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.matching.names import normalise_local_authority, normalise_name, tier_keys


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("St. Mary's C of E Primary", "St Marys CE Primary"),
        ("St Mary’s Church of England Primary", "ST MARYS COFE PRIMARY"),
        ("St Mary's C.E. Primary", "St Marys C E Primary"),
        ("St Joseph's R.C. Primary", "St Josephs Roman Catholic Primary"),
        ("Dorothy Barley Infants'", "Dorothy Barley Infant"),
        ("Manor Juniors", "manor junior"),
        ("Bishop & Bradley", "Bishop and Bradley"),
        ("École Élémentaire", "ecole elementaire"),
        ("Hampton-in-Arden (Primary)", "Hampton in Arden Primary"),
    ],
)
def test_equivalent_names_share_n(a, b):
    assert normalise_name(a) == normalise_name(b)


def test_n_of_the_spec_example():
    assert normalise_name("St. Mary's C of E Primary") == "saint marys ce primary"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Dorothy Barley Infants'", "Dorothy Barley Junior Academy"),
        ("St Mary's Primary", "St Marys RC Primary"),
        ("Stanley Primary", "Saint Anley Primary"),
    ],
)
def test_different_names_stay_different(a, b):
    assert normalise_name(a) != normalise_name(b)


def test_tier_keys():
    t1, t2, t3, t4 = tier_keys("  The  Dorothy Barley Infants' School ")
    assert t1 == "the dorothy barley infants' school"
    assert t2 == "the dorothy barley infant school"
    assert t3 == "dorothy barley infant"
    assert t4 == "dorothy barley"
    assert tier_keys("Manor Junior")[2] == tier_keys("Manor Junior School")[2] == "manor junior"
    assert tier_keys("St John's Voluntary Aided C of E Primary Federation")[3] == "saint johns"
    assert tier_keys("Hope and Glory Academy")[2] == "hope glory"


def test_empty_tier_keys_are_empty():
    assert tier_keys("The School")[2] == ""
    assert tier_keys("Primary School")[3] == ""


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Barking & Dagenham", "barking and dagenham"),
        ("  Barking   and Dagenham ", "Barking and Dagenham"),
        ("Stoke-on-Trent", "Stoke on Trent"),
        ("Bristol, City of", "BRISTOL CITY OF"),
    ],
)
def test_local_authority_normalisation(a, b):
    assert normalise_local_authority(a) == normalise_local_authority(b)


@given(st.text())
def test_n_is_idempotent(text):
    once = normalise_name(text)
    assert normalise_name(once) == once


@given(st.text(alphabet=st.sampled_from(list("stcofeinrladuhgjnr .'’&-")), max_size=40))
def test_n_is_idempotent_on_rewrite_heavy_text(text):
    once = normalise_name(text)
    assert normalise_name(once) == once


@given(st.text())
def test_tier_keys_are_fixed_points(text):
    _, t2, t3, t4 = tier_keys(text)
    assert tier_keys(t2)[1] == t2
    assert tier_keys(t3)[2] == t3
    assert tier_keys(t4)[3] == t4


@given(st.text())
def test_local_authority_normalisation_is_idempotent(text):
    once = normalise_local_authority(text)
    assert normalise_local_authority(once) == once
