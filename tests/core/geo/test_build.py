import hashlib
import json
import os

import brotli
import msgpack
import pytest

from core.geo.build import _json_object_values, build_gazetteer, postcode_dataset_info, read_manifest
from core.geo.distance import haversine_km
from core.geo.errors import GazetteerBuildError
from core.geo.gazetteer import Gazetteer
from core.geo.index import INDEX_FILENAME, MANIFEST_FILENAME
from tests.core.geo.conftest import FIXTURE_OUTWARDS

NAN = float("nan")


def write_letter_file(directory, letter, rows):
    """A postcode file in the package's format: brotli(msgpack({"columns", "data": {column: [...]}}))."""
    columns = ["pcd", "laua", "oseast1m", "osnrth1m"]
    data = {column: [row[i] for row in rows] for i, column in enumerate(columns)}
    packed = msgpack.packb({"columns": columns, "data": data}, use_bin_type=True)
    (directory / f"postcodes_{letter}.msgpack.br").write_bytes(brotli.compress(packed))


@pytest.fixture
def synthetic_source(tmp_path, monkeypatch):
    """Three letter files, and two towns instead of the 80 MB GeoNames file (the session fixture reads it)."""
    towns = [
        {"geonameid": 1, "name": "Truro", "latitude": 50.26526, "longitude": -5.05436, "population": 23041,
         "alternatenames": ["Truru", "TRU"]},
        {"geonameid": 2, "name": "Truro Vean", "latitude": 50.3, "longitude": -5.1, "population": 600,
         "alternatenames": ["Truro"]},
    ]  # fmt: skip
    monkeypatch.setattr("core.geo.build._uk_places", lambda: towns)
    source = tmp_path / "source"
    source.mkdir()
    write_letter_file(
        source,
        "E",
        [
            ("EC3A5DE", "E09000001", 533502.0, 181167.0),  # spec §8 grid reference
            ("EC3A5DE", "E09000001", 533502.0, 181167.0),  # duplicate row
            ("EC3A5DF", "E09000001", NAN, NAN),  # no grid reference
            ("EPT 0AD", "W06000022", 531000.0, 181000.0),  # terminated 3-letter area
            ("E1  0AA", "E09000030", 535267.0, 181084.0),
        ],
    )
    write_letter_file(source, "B", [("BT1 1AA", "N09000003", 334316.0, 374675.0)])  # Irish Grid
    write_letter_file(source, "J", [("JE1 0BD", "L99999999", NAN, NAN)])
    return source


def test_fixture_build_contents(gazetteer_dir):
    manifest = read_manifest(gazetteer_dir)
    counts = manifest["counts"]
    assert counts["outwards"] == len(FIXTURE_OUTWARDS)
    assert counts["units"] > 1000 and counts["sectors"] > len(FIXTURE_OUTWARDS)
    assert counts["towns"] > 5000 and counts["countries"] > 200
    assert manifest["params"]["only_outwards"] == sorted(FIXTURE_OUTWARDS)
    index = gazetteer_dir / INDEX_FILENAME
    assert manifest["index"]["bytes"] == index.stat().st_size
    assert manifest["index"]["sha256"] == hashlib.sha256(index.read_bytes()).hexdigest()
    assert sorted(p.name for p in gazetteer_dir.iterdir()) == [
        INDEX_FILENAME,
        MANIFEST_FILENAME,
    ]  # no temp files


def test_build_from_package_files(synthetic_source, tmp_path):
    info = build_gazetteer(tmp_path / "out", postcode_data_dir=synthetic_source)
    assert info.rebuilt
    expected = {"units": 3, "skipped_duplicates": 1, "skipped_without_coordinates": 2, "skipped_malformed": 1}
    assert {key: info.counts[key] for key in expected} == expected
    assert (info.counts["outwards"], info.counts["towns"]) == (3, 2)
    assert info.ons_release_year == postcode_dataset_info()["release_year"]
    with Gazetteer.open(info.index_path) as gazetteer:
        city = gazetteer.geocode("EC3A 5DE")
        assert haversine_km(city.latitude, city.longitude, 51.51366, -0.07747) < 0.05
        belfast = gazetteer.geocode("BT1 1AA")
        assert haversine_km(belfast.latitude, belfast.longitude, 54.60244, -5.92229) < 0.05
        assert gazetteer.sector("EC3A 5") == gazetteer.geocode("EC3A 5")
        sector = gazetteer.sector("EC3A 5")  # one unit with coordinates: the centroid is that unit
        assert (sector.latitude, sector.longitude) == (city.latitude, city.longitude)
        assert gazetteer.geocode("E1 0AA").matched == "E1 0AA"
        assert gazetteer.geocode("JE1 0BD") is None
        assert gazetteer.geocode("truru").matched == "Truro"
        assert gazetteer.geocode("Truro").matched == "Truro"  # shared name: the larger population wins
        assert gazetteer.geocode("TRU") is None  # code-like alternate names are left out


def test_build_is_idempotent_and_atomic(synthetic_source, tmp_path):
    out = tmp_path / "out"
    first = build_gazetteer(out, postcode_data_dir=synthetic_source)
    stamp = os.stat(out / INDEX_FILENAME).st_mtime_ns
    again = build_gazetteer(out, postcode_data_dir=synthetic_source)
    assert not again.rebuilt
    assert (again.counts, again.datasets, again.size_bytes) == (
        first.counts,
        first.datasets,
        first.size_bytes,
    )
    assert os.stat(out / INDEX_FILENAME).st_mtime_ns == stamp

    (out / INDEX_FILENAME).write_bytes(b"damaged")  # a damaged index is rebuilt
    assert build_gazetteer(out, postcode_data_dir=synthetic_source).rebuilt
    forced = build_gazetteer(out, postcode_data_dir=synthetic_source, force=True)
    assert forced.rebuilt and forced.counts == first.counts
    assert sorted(p.name for p in out.iterdir()) == [INDEX_FILENAME, MANIFEST_FILENAME]


def test_excluding_northern_ireland(synthetic_source, tmp_path):
    info = build_gazetteer(tmp_path / "gb", postcode_data_dir=synthetic_source, include_ni=False)
    assert info.counts["excluded_ni"] == 1 and not info.include_ni
    with Gazetteer.open(info.index_path) as gazetteer:
        assert gazetteer.geocode("BT1 1AA") is None
        assert gazetteer.geocode("EC3A 5DE").precision == "unit"
        assert not gazetteer.includes_ni


def test_only_outwards_filters_and_validates(synthetic_source, tmp_path):
    info = build_gazetteer(tmp_path / "e1", postcode_data_dir=synthetic_source, only_outwards=["e1"])
    assert info.only_outwards == ["E1"] and info.counts["units"] == 1
    with pytest.raises(GazetteerBuildError) as caught:
        build_gazetteer(tmp_path / "x", postcode_data_dir=synthetic_source, only_outwards=["EC3A 5DE"])
    assert caught.value.code == "invalid_outward_code"
    with pytest.raises(GazetteerBuildError):
        build_gazetteer(tmp_path / "x", postcode_data_dir=synthetic_source, only_outwards=[])


def test_missing_or_malformed_source(tmp_path):
    with pytest.raises(GazetteerBuildError) as caught:
        build_gazetteer(tmp_path / "out", postcode_data_dir=tmp_path / "absent")
    assert caught.value.code == "dataset_missing"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(GazetteerBuildError) as caught:
        build_gazetteer(tmp_path / "out", postcode_data_dir=empty)
    assert caught.value.code == "dataset_missing"
    (empty / "postcodes_A.msgpack.br").write_bytes(b"not brotli")
    with pytest.raises(GazetteerBuildError) as caught:
        build_gazetteer(tmp_path / "out", postcode_data_dir=empty)
    assert caught.value.code == "dataset_malformed"
    assert not (tmp_path / "out" / INDEX_FILENAME).exists()
    with pytest.raises(GazetteerBuildError) as caught:
        read_manifest(tmp_path / "out")
    assert caught.value.code == "gazetteer_missing"


def test_streamed_json_object_values():
    text = ' { "1" : {"a": 1} ,"2":[2, 3],\n"3": "x" } '
    assert list(_json_object_values(text)) == [{"a": 1}, [2, 3], "x"]
    assert list(_json_object_values("{}")) == []
    assert list(_json_object_values(json.dumps({str(i): {"i": i} for i in range(5)}))) == [
        {"i": i} for i in range(5)
    ]
    for broken in ("[1, 2]", '{"1": 1 "2": 2}', '{"1": 1,'):
        with pytest.raises(ValueError):
            list(_json_object_values(broken))


def test_overlapping_letter_files_are_rejected(synthetic_source, tmp_path):
    write_letter_file(synthetic_source, "F", [("E1  0AB", "E09000030", 535349.0, 181185.0)])
    with pytest.raises(GazetteerBuildError) as caught:
        build_gazetteer(tmp_path / "out", postcode_data_dir=synthetic_source)
    assert caught.value.code == "dataset_malformed"
