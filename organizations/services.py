"""Writes on organisations and contacts (api.md O2, O4, O5, O7, O10, O11), with geocoding.

Coordinates (imports-and-geo.md §6, reference-defects B14/B16):
- sent in the request → kept as given, precision ``manual``;
- otherwise computed synchronously and offline on create, and on update only when postcode, town, county or
  street actually changes (a field merely present with its old value changes nothing);
- when nothing offline knows the address the coordinates are cleared and, if enabled, a background task tries
  the online geocoder — never inside the request.
"""

import logging
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import NotFound, ValidationError

from core.imports.organizations import organization_key

from . import locate
from .models import ORGANIZATION_FIELDS, Contact, GeocodePrecision, Organization
from .selectors import contact_queryset, organization_detail_queryset

logger = logging.getLogger(__name__)

ORGANIZATION_NOT_FOUND = "Organization not found."
CONTACT_NOT_FOUND = "Contact not found."
URN_TAKEN = "An organization with this URN already exists."
DUPLICATE_WITHOUT_URN = (
    "An organization without URN with the same name, local authority and postcode already exists."
)
EMAIL_TAKEN = "A contact with this email already exists."
ADDRESS_FIELDS = ("postcode", "town", "county", "street")


def parse_id(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def get_organization(organization_id, queryset=None, *, lock: bool = False) -> Organization:
    pk = parse_id(organization_id)
    queryset = Organization.objects.all() if queryset is None else queryset
    if lock:
        queryset = queryset.select_for_update()
    organization = queryset.filter(pk=pk).first() if pk else None
    if organization is None:
        raise NotFound(ORGANIZATION_NOT_FOUND)
    return organization


def get_contact(contact_id, queryset=None, *, lock: bool = False) -> Contact:
    pk = parse_id(contact_id)
    queryset = Contact.objects.all() if queryset is None else queryset
    if lock:
        queryset = queryset.select_for_update()
    contact = queryset.filter(pk=pk).first() if pk else None
    if contact is None:
        raise NotFound(CONTACT_NOT_FOUND)
    return contact


# --- organisations ------------------------------------------------------------------------------------------------


def _check_unique(organization: Organization, exclude_pk=None) -> None:
    others = Organization.objects.exclude(pk=exclude_pk) if exclude_pk else Organization.objects.all()
    if organization.urn:
        if others.filter(urn=organization.urn).exists():
            raise ValidationError({"urn": [URN_TAKEN]})
        return
    key = organization_key(organization.name, organization.local_authority, organization.postcode)
    same_postcode = others.filter(urn__isnull=True, postcode=organization.postcode or "").only(
        "name", "local_authority", "postcode"
    )
    for other in same_postcode.iterator(chunk_size=500):
        if organization_key(other.name, other.local_authority, other.postcode) == key:
            raise ValidationError({"non_field_errors": [DUPLICATE_WITHOUT_URN]})


def _geocode(organization: Organization) -> bool:
    """Recompute coordinates from the address (offline); clears them when unknown. True when found."""
    result = locate.locate_address(organization.postcode, organization.town, organization.county)
    if result is None:
        organization.latitude = organization.longitude = None
        organization.geocode_precision = None
        organization.geocoded_at = None
        return False
    organization.latitude = round(result.latitude, 6)
    organization.longitude = round(result.longitude, 6)
    organization.geocode_precision = result.precision
    organization.geocoded_at = timezone.now()
    return True


def _set_manual(organization: Organization, latitude, longitude) -> None:
    organization.latitude, organization.longitude = latitude, longitude
    organization.geocode_precision = GeocodePrecision.MANUAL
    organization.geocoded_at = timezone.now()


def _after_geocode(organization: Organization, found: bool) -> None:
    if not found:
        texts = locate.address_texts(organization.postcode, organization.town, organization.county)
        locate.request_online_lookup("organization", str(organization.pk), texts)


def _save(organization: Organization, **kwargs) -> None:
    try:
        with transaction.atomic():
            organization.save(**kwargs)
    except IntegrityError:  # a concurrent request took the URN between the check and the write
        raise ValidationError({"urn": [URN_TAKEN]})


def create_organization(data: dict) -> Organization:
    """O2: create; coordinates as given (manual) or computed offline from postcode, else town + county."""
    organization = Organization(**{name: data[name] for name in ORGANIZATION_FIELDS if name in data})
    with transaction.atomic():
        _check_unique(organization)
        if data.get("latitude") is not None:
            _set_manual(organization, data["latitude"], data["longitude"])
            found = True
        else:
            found = _geocode(organization)
        _save(organization, force_insert=True)
        _after_geocode(organization, found)
    return get_organization(organization.pk, organization_detail_queryset())


def update_organization(organization_id, data: dict) -> Organization:
    """O4: partial update; re-geocode only when an address field really changed and no coordinates were sent."""
    with transaction.atomic():
        organization = get_organization(organization_id, lock=True)
        changed = set()
        for name in ORGANIZATION_FIELDS:
            if name in data and getattr(organization, name) != data[name]:
                setattr(organization, name, data[name])
                changed.add(name)
        if changed & {"urn", "name", "local_authority", "postcode"}:
            _check_unique(organization, exclude_pk=organization.pk)
        found = True
        coordinates_sent = "latitude" in data
        if coordinates_sent and data["latitude"] is not None:
            if (organization.latitude, organization.longitude) != (data["latitude"], data["longitude"]) or (
                organization.geocode_precision != GeocodePrecision.MANUAL
            ):
                _set_manual(organization, data["latitude"], data["longitude"])
                changed.add("coordinates")
        elif (coordinates_sent and data["latitude"] is None) or changed & set(ADDRESS_FIELDS):
            # explicit nulls drop manual coordinates: back to the address
            found = _geocode(organization)
            changed.add("coordinates")
        if changed:
            _save(organization)
            if "coordinates" in changed:
                _after_geocode(organization, found)
    return get_organization(organization.pk, organization_detail_queryset())


def delete_organization(organization_id) -> str:
    """O5: the organisation and (cascade) its contacts."""
    with transaction.atomic():
        organization = get_organization(organization_id, lock=True)
        label = f"{organization.name} — {organization.local_authority}"
        organization.delete()
    return f"Organization '{label}' deleted."


# --- contacts -------------------------------------------------------------------------------------------------


def _role_mailbox(contact: Contact) -> bool:
    title = (contact.job_title or "").strip()
    return bool(title) and contact.contact_person.strip().casefold() == title.casefold()


def _check_email(email: str, exclude_pk=None) -> None:
    others = Contact.objects.exclude(pk=exclude_pk) if exclude_pk else Contact.objects.all()
    if others.filter(work_email__iexact=email).exists():
        raise ValidationError({"work_email": [EMAIL_TAKEN]})


def _save_contact(contact: Contact, **kwargs) -> None:
    contact.is_role_mailbox = _role_mailbox(contact)
    try:
        with transaction.atomic():
            contact.save(**kwargs)
    except IntegrityError:  # concurrent request with the same address
        raise ValidationError({"work_email": [EMAIL_TAKEN]})


def create_contact(organization_id, data: dict) -> Contact:
    """O7: a contact of the organisation in the path; e-mail unique case-insensitively, stored lower-case."""
    with transaction.atomic():
        organization = get_organization(organization_id)
        _check_email(data["work_email"])
        contact = Contact(
            organization=organization,
            contact_person=data["contact_person"],
            job_title=data.get("job_title", ""),
            work_email=data["work_email"],
            match_method="manual",
        )
        _save_contact(contact, force_insert=True)
    return get_contact(contact.pk, contact_queryset())


def update_contact(contact_id, data: dict) -> Contact:
    """O10: partial update; ``organization`` moves the contact (400 when unknown)."""
    with transaction.atomic():
        contact = get_contact(contact_id, lock=True)
        if "organization" in data:
            if not Organization.objects.filter(pk=data["organization"]).exists():
                raise ValidationError({"organization": [ORGANIZATION_NOT_FOUND]})
            contact.organization_id = data["organization"]
        for name in ("contact_person", "job_title"):
            if name in data:
                setattr(contact, name, data[name])
        if "work_email" in data and data["work_email"] != contact.work_email:
            _check_email(data["work_email"], exclude_pk=contact.pk)
            contact.work_email = data["work_email"]
        _save_contact(contact)
    return get_contact(contact.pk, contact_queryset())


def delete_contact(contact_id) -> str:
    with transaction.atomic():
        contact = get_contact(contact_id, lock=True)
        email = contact.work_email
        contact.delete()
    return f"Contact '{email}' deleted."
