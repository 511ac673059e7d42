import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.geo.errors import InvalidPostcode
from core.geo.postcodes import (
    find_postcode,
    find_postcodes,
    is_valid_postcode,
    normalise_postcode,
    parse_partial_postcode,
    split_postcode,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("se39gj", "SE3 9GJ"),
        ("SE3 9GJ", "SE3 9GJ"),
        (" EC3A  5DE ", "EC3A 5DE"),
        ("ec3a5de", "EC3A 5DE"),
        ("m11ae", "M1 1AE"),
        ("W1A 0AX", "W1A 0AX"),
        ("gir0aa", "GIR 0AA"),
        ("BT1\t1AA", "BT1 1AA"),
    ],
)
def test_normalise_postcode(raw, expected):
    assert normalise_postcode(raw) == expected
    assert is_valid_postcode(raw)


@pytest.mark.parametrize(
    "raw", ["", "EC3A", "EC3A 5", "12345", "EC3A 5DEX", "Q", "ABC1 1AA", "SW1A 1A1", "NPT 0AD"]
)
def test_invalid_postcode_is_a_clear_error(raw):
    with pytest.raises(InvalidPostcode) as caught:
        normalise_postcode(raw)
    assert caught.value.code == "invalid_postcode"
    assert not is_valid_postcode(raw)


def test_non_text_postcode_is_a_clear_error():
    with pytest.raises(InvalidPostcode):
        normalise_postcode(None)


def test_split_postcode():
    assert split_postcode("ec3a5de") == ("EC3A", "EC3A 5", "EC3A 5DE")
    parts = split_postcode("M1 1AE")
    assert (parts.outward, parts.sector, parts.unit) == ("M1", "M1 1", "M1 1AE")


def test_find_postcodes_anywhere_in_text():
    text = "Flat 2, 10 Downing St, London sw1a2aa; previously at M1  1AE (Manchester)"
    assert find_postcodes(text) == ["SW1A 2AA", "M1 1AE"]
    assert find_postcode("Girobank GIR 0AA") == "GIR 0AA"
    assert find_postcode("no postcode here, tel 07700 900123") is None
    assert find_postcode("ref XEC3A5DE9") is None  # word boundaries: not part of a longer token


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("EC3A 5", ("sector", "EC3A 5")),
        ("ec3a  5", ("sector", "EC3A 5")),
        ("EC3A", ("outward", "EC3A")),
        ("m1", ("outward", "M1")),
        ("M11", ("outward", "M11")),
        ("EC3A 5DE", None),
        ("London", None),
        ("", None),
    ],
)
def test_parse_partial_postcode(text, expected):
    assert parse_partial_postcode(text) == expected


_letters = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_digits = st.sampled_from("0123456789")
_outwards = st.one_of(
    st.tuples(_letters, _digits).map("".join),
    st.tuples(_letters, _digits, _digits).map("".join),
    st.tuples(_letters, _letters, _digits).map("".join),
    st.tuples(_letters, _letters, _digits, _digits).map("".join),
    st.tuples(_letters, _digits, _letters).map("".join),
    st.tuples(_letters, _letters, _digits, _letters).map("".join),
)
_postcodes = st.builds(
    lambda outward, d, a, b: f"{outward} {d}{a}{b}", _outwards, _digits, _letters, _letters
)


@given(_postcodes, st.sampled_from(["", " ", "  ", "\t"]), st.booleans(), st.booleans())
def test_normalisation_round_trip(canonical, gap, lower, padded):
    outward, inward = canonical.split(" ")
    variant = f"{outward}{gap}{inward}"
    variant = variant.lower() if lower else variant
    variant = f"  {variant} " if padded else variant
    assert normalise_postcode(variant) == canonical
    assert normalise_postcode(canonical) == canonical
    assert find_postcodes(f"Address: 1 High St, {variant}, UK") == [canonical]
    assert split_postcode(variant).unit == canonical
