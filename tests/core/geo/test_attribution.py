from pathlib import Path

from core.geo.attribution import attribution, attribution_for_build, notice_text
from core.geo.build import postcode_dataset_info

NOTICE = Path(__file__).resolve().parents[3] / "NOTICE"


def test_entries_follow_the_configuration():
    entries = attribution(ons_release_year=2025, include_ni=True, online_enabled=False)
    assert [entry["dataset"] for entry in entries] == ["ONS Postcode Directory", "GeoNames"]
    ons = entries[0]["text"]
    assert ons.startswith(
        "Source: Office for National Statistics licensed under the Open Government Licence v.3.0."
    )
    assert "Contains OS data © Crown copyright and database right 2025." in ons
    assert ons.endswith("LPS Intellectual Property © Crown copyright and database right 2025.")
    assert entries[1]["text"] == (
        "Place data from GeoNames (www.geonames.org), CC BY 4.0; GB subset extracted and normalised."
    )
    without_ni = attribution(ons_release_year=2025, include_ni=False, online_enabled=True)
    assert "LPS" not in without_ni[0]["text"]
    assert without_ni[0]["text"].endswith("Source: National Records of Scotland.")
    assert without_ni[2] == {
        "dataset": "Nominatim / OpenStreetMap",
        "licence": "ODbL 1.0",
        "text": "Geocoding © OpenStreetMap contributors, ODbL 1.0.",
    }
    assert all(set(entry) == {"dataset", "licence", "text"} for entry in without_ni)


def test_entries_for_a_built_gazetteer(gazetteer):
    entries = attribution_for_build(gazetteer.meta, online_enabled=False)
    assert "database right 2025" in entries[0]["text"] and "LPS" in entries[0]["text"]


def test_notice_file_is_current():
    assert NOTICE.read_text() == notice_text(postcode_dataset_info()["release_year"])
