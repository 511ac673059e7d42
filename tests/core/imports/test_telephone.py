import pytest

from core.imports.telephone import normalise_telephone


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2072831147", "020 7283 1147"),  # numeric cell that lost its leading zero
        ("02072831147", "020 7283 1147"),
        ("020 7283 1147", "020 7283 1147"),
        ("+44 20 7283 1147", "020 7283 1147"),
        ("+44 (0)20 7283 1147", "020 7283 1147"),
        ("442072831147", "020 7283 1147"),
        ("0044 20 7283 1147", "020 7283 1147"),
        ("1865270000", "01865 270000"),
        ("1179 123456", "0117 912 3456"),
    ],
)
def test_valid_gb_numbers_in_national_format(given, stored):
    assert normalise_telephone(given) == (stored, None)


@pytest.mark.parametrize("given", [None, "", "   "])
def test_empty_is_null(given):
    assert normalise_telephone(given) == (None, None)


@pytest.mark.parametrize("given", ["2.00203E+12", "4.47976E+11", "4.41512e+11", "1,5E+10"])
def test_scientific_notation_lost_its_digits(given):
    assert normalise_telephone(given) == (None, "telephone_precision_lost")


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("208920600", "0208920600"),  # a digit short
        ("11329009010", "011329009010"),  # a digit too many
        ("+353 1 234 5678", "+35312345678"),  # foreign
    ],
)
def test_unusual_numbers_keep_their_digits(given, stored):
    assert normalise_telephone(given) == (stored, "telephone_unusual")


@pytest.mark.parametrize("given", ["n/a", "TBC", "0" * 40, "1" * 40])
def test_unusable_text_is_not_stored(given):
    assert normalise_telephone(given) == (None, "telephone_unusual")


def test_result_never_exceeds_the_column():
    for given in ("12345678901234567890123456789", "+" + "9" * 29):
        value, problem = normalise_telephone(given)
        assert value is None or len(value) <= 30
        assert problem == "telephone_unusual"
