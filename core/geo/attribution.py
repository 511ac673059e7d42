"""Attribution the data licences require (spec imports-and-geo §9): API, documentation and the NOTICE file."""

ONS_DATASET = "ONS Postcode Directory"
GEONAMES_DATASET = "GeoNames"
NOMINATIM_DATASET = "Nominatim / OpenStreetMap"


def ons_text(release_year: int, *, include_ni: bool) -> str:
    year = int(release_year)
    text = (
        "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
        f"Contains OS data © Crown copyright and database right {year}. "
        f"Contains Royal Mail data © Royal Mail copyright and database right {year}. "
        "Contains GeoPlace data © Local Government Information House Limited copyright and database right "
        f"{year}. Source: National Records of Scotland."
    )
    if include_ni:  # Land & Property Services terms apply only while Northern Ireland postcodes are loaded
        text += f" LPS Intellectual Property © Crown copyright and database right {year}."
    return text


def attribution(*, ons_release_year: int, include_ni: bool, online_enabled: bool) -> list[dict[str, str]]:
    """The entries to show, as ``[{"dataset", "licence", "text"}]``."""
    entries = [
        {
            "dataset": ONS_DATASET,
            "licence": "Open Government Licence v3.0"
            + ("; NI postcodes also under LPS terms" if include_ni else ""),
            "text": ons_text(ons_release_year, include_ni=include_ni),
        },
        {
            "dataset": GEONAMES_DATASET,
            "licence": "CC BY 4.0",
            "text": "Place data from GeoNames (www.geonames.org), CC BY 4.0; GB subset extracted and normalised.",
        },
    ]
    if online_enabled:
        entries.append(
            {
                "dataset": NOMINATIM_DATASET,
                "licence": "ODbL 1.0",
                "text": "Geocoding © OpenStreetMap contributors, ODbL 1.0.",
            }
        )
    return entries


def attribution_for_build(meta: dict, *, online_enabled: bool) -> list[dict[str, str]]:
    """Entries for a built gazetteer, from its manifest or ``Gazetteer.meta`` (both carry ``params``)."""
    params = meta["params"]
    return attribution(
        ons_release_year=params["datasets"]["ons_postcode_directory"]["release_year"],
        include_ni=params["include_ni"],
        online_enabled=online_enabled,
    )


def notice_text(ons_release_year: int) -> str:
    """The NOTICE file shipped with the software: every entry, each marked with when it applies."""
    lines = [
        "CV Engine — third-party data notices",
        "",
        "The offline geocoder embeds the datasets below; their licences require this attribution.",
        "",
    ]
    conditions = {
        NOMINATIM_DATASET: "applies only when online geocoding (GEO_ONLINE_ENABLED) is enabled",
    }
    for entry in attribution(ons_release_year=ons_release_year, include_ni=True, online_enabled=True):
        condition = conditions.get(entry["dataset"])
        lines.append(f"{entry['dataset']} ({entry['licence']})" + (f" — {condition}" if condition else ""))
        lines.append(entry["text"])
        lines.append("")
    lines.append(
        "The final LPS sentence applies only while Northern Ireland (BT) postcodes are loaded (GEO_INCLUDE_NI)."
    )
    return "\n".join(lines) + "\n"
