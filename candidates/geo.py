"""Candidate coordinates from the postcode (else the location) via the offline gazetteer (imports-and-geo.md §6)."""

from django.utils import timezone

from organizations.geocoding import geocode

from .models import Candidate


def locate_candidate(candidate: Candidate, save: bool = True) -> dict:
    """Clear and recompute the candidate's coordinates; returns the geo fields (also set on the object)."""
    result = None
    for text in (candidate.postcode, candidate.location):
        if text and (result := geocode(text)):
            break
    fields = {
        "latitude": round(result.latitude, 6) if result else None,
        "longitude": round(result.longitude, 6) if result else None,
        "geo_precision": result.precision if result else "",
        "geo_matched": result.matched[:255] if result else "",
        "geocoded_at": timezone.now() if result else None,
    }
    for name, value in fields.items():
        setattr(candidate, name, value)
    if save:
        Candidate.objects.filter(id=candidate.id).update(**fields)
    return fields
