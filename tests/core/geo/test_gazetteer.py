import os
import shutil
import threading

import pytest

from core.geo.distance import haversine_km, km_to_miles
from core.geo.errors import GazetteerError, InvalidLocation
from core.geo.gazetteer import Gazetteer, normalise_location, shared_gazetteer
from core.geo.index import INDEX_FILENAME

UNITS = {  # spec imports-and-geo §8: official unit coordinates, asserted within 50 m
    "EC3A 5DE": (51.51366, -0.07747),
    "M1 1AE": (53.48349, -2.23118),
    "B15 2TT": (52.45328, -1.92789),
    "LS1 4AP": (53.79547, -1.55573),
    "SW1A 1AA": (51.50101, -0.14159),
    "BT1 1AA": (54.60244, -5.92229),  # from the Irish Grid (EPSG:29903)
}
TOWNS = {
    "London": (51.50853, -0.12574),
    "Manchester": (53.48095, -2.23743),
    "Leeds": (53.79648, -1.54785),
    "Truro": (50.26526, -5.05436),
}


def km_from(result, expected):
    return haversine_km(result.latitude, result.longitude, *expected)


@pytest.mark.parametrize("postcode", UNITS)
def test_unit_postcodes_within_50_m(gazetteer, postcode):
    result = gazetteer.geocode(postcode)
    assert (result.precision, result.matched) == ("unit", postcode)
    assert km_from(result, UNITS[postcode]) < 0.05


@pytest.mark.parametrize(
    "variant", ["ec3a5de", " EC3A  5DE ", "EC3A 5DE, UK", "1 St Mary Axe, London EC3A 5DE"]
)
def test_unit_postcode_variants(gazetteer, variant):
    result = gazetteer.geocode(variant)
    assert (result.precision, result.matched) == ("unit", "EC3A 5DE")
    assert km_from(result, UNITS["EC3A 5DE"]) < 0.05


def test_sector_and_outward(gazetteer):
    sector = gazetteer.geocode("EC3A 5")
    assert (sector.precision, sector.matched) == ("sector", "EC3A 5")
    assert km_from(sector, (51.5139, -0.0793)) < 0.5
    outward = gazetteer.geocode("ec3a")
    assert (outward.precision, outward.matched) == ("outward", "EC3A")
    assert km_from(outward, (51.5150, -0.0820)) < 0.5
    assert gazetteer.geocode("M1").precision == "outward"


def test_centroids_are_the_mean_of_their_units(gazetteer):
    sector, outward = gazetteer.sector("EC3A 5"), gazetteer.outward("EC3A")
    members = [
        gazetteer.unit(postcode) for postcode in gazetteer.unit_postcodes() if postcode.startswith("EC3A 5")
    ]
    assert len(members) > 1
    assert sector.latitude == pytest.approx(sum(m.latitude for m in members) / len(members), abs=2e-6)
    assert sector.longitude == pytest.approx(sum(m.longitude for m in members) / len(members), abs=2e-6)
    assert outward.latitude != sector.latitude


def test_unknown_unit_falls_back_to_sector_or_outward(gazetteer):
    result = gazetteer.geocode("EC3A 9ZZ")
    assert result.precision in ("sector", "outward")
    assert result.matched in ("EC3A 9", "EC3A")
    existing_sector = gazetteer.geocode("EC3A 5ZZ")  # no such unit, but sector EC3A 5 exists
    assert (existing_sector.precision, existing_sector.matched) == ("sector", "EC3A 5")


@pytest.mark.parametrize("town", TOWNS)
def test_towns_within_1_km(gazetteer, town):
    result = gazetteer.geocode(town)
    assert (result.precision, result.matched) == ("town", town)
    assert km_from(result, TOWNS[town]) < 1.0


@pytest.mark.parametrize(
    ("text", "town"),
    [
        ("leeds, west yorkshire", "Leeds"),
        ("Flat 3, 12 High Street, Truro, Cornwall, England", "Truro"),
        ("MANCHESTER UK", "Manchester"),
        ("St Albans", "St Albans"),
        ("Saint Albans, Hertfordshire", "St Albans"),
        ("St. Albans", "St Albans"),
        ("stoke on trent", "Stoke-on-Trent"),
        ("Kings Lynn", "King's Lynn"),
        ("Londres", "London"),  # alternate name
        ("Belfast\nNorthern Ireland", "Belfast"),
    ],
)
def test_town_matching_rules(gazetteer, text, town):
    result = gazetteer.geocode(text)
    assert (result.precision, result.matched) == ("town", town)


def test_postcode_takes_precedence_over_town(gazetteer):
    assert gazetteer.geocode("Leeds, LS1 4AP").precision == "unit"
    assert gazetteer.geocode("ZZ9 9ZZ, Leeds").matched == "Leeds"  # unresolvable postcode: go on to towns


@pytest.mark.parametrize(
    "text",
    ["IM1 1AA", "Atlantis", "Dhaka, Bangladesh", "Perth, Australia", "London, USA", "", "   ", "UK", "Wales"],
)
def test_no_result(gazetteer, text):
    assert gazetteer.geocode(text) is None


def test_bad_input_is_a_clear_error(gazetteer):
    for bad in (None, 42, "x" * 1001):
        with pytest.raises(InvalidLocation) as caught:
            gazetteer.geocode(bad)
        assert caught.value.code == "invalid_location"


def test_town_lookup(gazetteer):
    assert gazetteer.town("truro").population > 10000
    assert gazetteer.town("Atlantis") is None
    with pytest.raises(InvalidLocation):
        gazetteer.town(None)


def test_is_known_town(gazetteer):
    assert gazetteer.is_known_town("london")
    assert gazetteer.is_known_town("Saint Albans")
    assert not gazetteer.is_known_town("Atlantis")
    assert not gazetteer.is_known_town("Bangladesh")
    assert not gazetteer.is_known_town(None)
    assert gazetteer.is_foreign_country("United States of America")
    assert not gazetteer.is_foreign_country("Scotland")


def test_normalise_location():
    assert normalise_location("  leeds ,  west   yorkshire, united kingdom ") == "LEEDS, WEST YORKSHIRE"
    assert normalise_location("Cardiff Wales") == "CARDIFF"
    assert normalise_location("England") == ""


@pytest.mark.parametrize(
    ("a", "b", "km", "miles"),
    [
        ("EC3A 5DE", "SW1A 1AA", 4.66, 2.89),
        ("M1 1AE", "LS1 4AP", 56.45, 35.07),
        ("B15 2TT", "M1 1AE", 116.34, None),
        ("EC3A 5DE", "BT1 1AA", 519.82, None),
    ],
)
def test_spec_distances_between_geocoded_units(gazetteer, a, b, km, miles):
    first, second = gazetteer.geocode(a), gazetteer.geocode(b)
    distance = haversine_km(first.latitude, first.longitude, second.latitude, second.longitude)
    assert distance == pytest.approx(km, abs=0.05)
    if miles is not None:
        assert km_to_miles(distance) == pytest.approx(miles, abs=0.05)


def test_metadata_records_datasets(gazetteer):
    datasets = gazetteer.datasets
    assert datasets["ons_postcode_directory"]["version"] == "2026.1.1"
    assert datasets["ons_postcode_directory"]["release_year"] == 2025
    assert datasets["geonames"]["version"] == "3.0.2"
    assert gazetteer.includes_ni


def test_concurrent_lookups_agree(gazetteer):
    texts = [*UNITS, *TOWNS, "EC3A 5", "Atlantis"] * 50
    expected = [gazetteer.geocode(text) for text in texts]
    results: list = [None] * 4

    def work(slot):
        results[slot] = [gazetteer.geocode(text) for text in texts]

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(result == expected for result in results)


def test_shared_gazetteer_is_reused_per_file(gazetteer_dir):
    first = shared_gazetteer(gazetteer_dir)
    assert shared_gazetteer(gazetteer_dir / INDEX_FILENAME) is first
    assert first.geocode("M1 1AE").precision == "unit"


def test_shared_gazetteer_reopens_a_replaced_file(gazetteer_dir, tmp_path):
    index = tmp_path / INDEX_FILENAME
    shutil.copyfile(gazetteer_dir / INDEX_FILENAME, index)
    before = shared_gazetteer(tmp_path)
    shutil.copyfile(gazetteer_dir / INDEX_FILENAME, tmp_path / "new.idx")
    os.replace(tmp_path / "new.idx", index)  # what a rebuild does
    after = shared_gazetteer(tmp_path)
    assert after is not before
    assert before.geocode("M1 1AE") == after.geocode("M1 1AE")  # the old instance still works for its users


def test_missing_or_corrupt_index(tmp_path, gazetteer_dir):
    with pytest.raises(GazetteerError) as caught:
        Gazetteer.open(tmp_path)
    assert caught.value.code == "gazetteer_missing"
    with pytest.raises(GazetteerError):
        shared_gazetteer(tmp_path / "nothing.idx")
    bad = tmp_path / "bad.idx"
    for content in (b"", b"not an index at all", (gazetteer_dir / INDEX_FILENAME).read_bytes()[:5000]):
        bad.write_bytes(content)
        with pytest.raises(GazetteerError) as caught:
            Gazetteer.open(bad)
        assert caught.value.code == "gazetteer_unavailable"
