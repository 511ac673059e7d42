"""Organisations, contacts, imports, nearby search and data attribution (api.md §3 C7/C8, §4, §7).

Thin: parameters are validated by serializers, work is done by services / selectors / nearby / imports.
"""

from django.conf import settings
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework import status
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from candidates.models import Candidate
from candidates.services import get_candidate
from cvengine.api import EnvelopePagination, envelope_schema

from . import imports, locate, nearby, selectors, services
from . import serializers as s
from .attribution import ATTRIBUTION_DOC, attribution_entries
from .models import ImportJob
from .renderers import FastJSONRenderer

ORGANIZATION_ID = OpenApiParameter("organization_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
CONTACT_ID = OpenApiParameter("contact_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
CANDIDATE_ID = OpenApiParameter("candidate_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
TASK_ID = OpenApiParameter("task_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Import job id.")
FIELD_ERRORS = OpenApiResponse(OpenApiTypes.OBJECT, description="Field errors: {field: [messages]}.")
AUTH_ERRORS = {
    401: OpenApiResponse(s.OrganizationsErrorSerializer, description="Not authenticated."),
    403: OpenApiResponse(s.OrganizationsErrorSerializer, description="Not an operator."),
}
ORG_404 = OpenApiResponse(s.OrganizationsErrorSerializer, description="Organization not found.")
CONTACT_404 = OpenApiResponse(s.OrganizationsErrorSerializer, description="Contact not found.")
TASK_404 = OpenApiResponse(s.OrganizationsErrorSerializer, description="Task not found.")
GEO_422 = OpenApiResponse(
    s.OrganizationsErrorSerializer,
    description="location_missing / location_not_geocodable: the place cannot be located offline "
    "(an online lookup may run in the background when enabled).",
)
UNIT_NOTE = " Distances are great-circle km (R = 6371.0088 km); `distance` is in `unit`. " + ATTRIBUTION_DOC


MAX_PAGE = 1_000_000  # far beyond any result; keeps OFFSET within the database's integer range


def _page_number(request) -> int:
    raw = request.query_params.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise NotFound("Invalid page.")
    return int(raw)


def _query(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- organisations ------------------------------------------------------------------------------------------------


class OrganizationListCreateView(APIView):
    @extend_schema(
        tags=["organizations"],
        summary="List organisations (O1)",
        operation_id="organizations_list",
        description="Ordered by name, local authority. Geo filter: `lat`+`lng`+`radius_km` or `near`+`radius_km`; "
        "items then carry `distance_km` and `ordering=distance` is allowed. " + ATTRIBUTION_DOC,
        parameters=[s.OrganizationListQuerySerializer],
        responses={
            200: envelope_schema("OrganizationListPage", s.OrganizationListItemSerializer),
            400: FIELD_ERRORS,
            404: OpenApiResponse(s.OrganizationsErrorSerializer, description="Invalid page."),
            422: GEO_422,
            **AUTH_ERRORS,
        },
    )
    def get(self, request):
        params = _query(s.OrganizationListQuerySerializer, request)
        circle = selectors.geo_circle(request.query_params, settings.GEO_MAX_RADIUS_KM)
        listing = selectors.organization_list(params, circle)
        paginator = EnvelopePagination()
        page = paginator.paginate_queryset(listing.queryset, request, view=self)
        return paginator.get_paginated_response(s.OrganizationListItemSerializer(page, many=True).data)

    @extend_schema(
        tags=["organizations"],
        summary="Create an organisation (O2)",
        request=s.OrganizationWriteSerializer,
        responses={201: s.OrganizationDetailSerializer, 400: FIELD_ERRORS, **AUTH_ERRORS},
    )
    def post(self, request):
        serializer = s.OrganizationWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = services.create_organization(serializer.validated_data)
        return Response(s.OrganizationDetailSerializer(organization).data, status=status.HTTP_201_CREATED)


class OrganizationDetailView(APIView):
    @extend_schema(
        tags=["organizations"],
        summary="Organisation detail (O3)",
        parameters=[ORGANIZATION_ID],
        responses={200: s.OrganizationDetailSerializer, 404: ORG_404, **AUTH_ERRORS},
    )
    def get(self, request, organization_id):
        organization = services.get_organization(organization_id, selectors.organization_detail_queryset())
        return Response(s.OrganizationDetailSerializer(organization).data)

    @extend_schema(
        tags=["organizations"],
        summary="Update an organisation (O4)",
        description="Partial. Coordinates are recomputed only when postcode, town, county or street actually "
        "changes and no coordinates are sent in the same request; sent coordinates are kept (manual).",
        parameters=[ORGANIZATION_ID],
        request=s.OrganizationWriteSerializer,
        responses={200: s.OrganizationDetailSerializer, 400: FIELD_ERRORS, 404: ORG_404, **AUTH_ERRORS},
    )
    def patch(self, request, organization_id):
        services.get_organization(organization_id)  # 404 before field errors
        serializer = s.OrganizationWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        organization = services.update_organization(organization_id, serializer.validated_data)
        return Response(s.OrganizationDetailSerializer(organization).data)

    @extend_schema(
        tags=["organizations"],
        summary="Delete an organisation and its contacts (O5)",
        parameters=[ORGANIZATION_ID],
        responses={200: s.OrganizationsMessageSerializer, 404: ORG_404, **AUTH_ERRORS},
    )
    def delete(self, request, organization_id):
        return Response({"message": services.delete_organization(organization_id)})


class OrganizationContactsView(APIView):
    @extend_schema(
        tags=["organizations"],
        summary="Contacts of an organisation (O6)",
        operation_id="organizations_organization_contacts_list",
        description="Plain array (not paginated), by contact person.",
        parameters=[ORGANIZATION_ID],
        responses={200: s.ContactSerializer(many=True), 404: ORG_404, **AUTH_ERRORS},
    )
    def get(self, request, organization_id):
        organization = services.get_organization(organization_id)
        return Response(s.ContactSerializer(selectors.organization_contacts(organization), many=True).data)

    @extend_schema(
        tags=["organizations"],
        summary="Add a contact to an organisation (O7)",
        operation_id="organizations_organization_contacts_create",
        parameters=[ORGANIZATION_ID],
        request=s.ContactWriteSerializer,
        responses={201: s.ContactSerializer, 400: FIELD_ERRORS, 404: ORG_404, **AUTH_ERRORS},
    )
    def post(self, request, organization_id):
        services.get_organization(organization_id)
        serializer = s.ContactWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {k: v for k, v in serializer.validated_data.items() if k != "organization"}
        contact = services.create_contact(organization_id, data)
        return Response(s.ContactSerializer(contact).data, status=status.HTTP_201_CREATED)


# --- contacts -------------------------------------------------------------------------------------------------


class ContactListView(APIView):
    @extend_schema(
        tags=["contacts"],
        summary="List contacts with their organisation (O8)",
        operation_id="organizations_contacts_list",
        parameters=[s.ContactListQuerySerializer],
        responses={
            200: envelope_schema("ContactListPage", s.ContactWithOrgSerializer),
            400: FIELD_ERRORS,
            404: OpenApiResponse(s.OrganizationsErrorSerializer, description="Invalid page."),
            **AUTH_ERRORS,
        },
    )
    def get(self, request):
        params = _query(s.ContactListQuerySerializer, request)
        paginator = EnvelopePagination()
        page = paginator.paginate_queryset(selectors.contact_list(params), request, view=self)
        return paginator.get_paginated_response(s.ContactWithOrgSerializer(page, many=True).data)


class ContactDetailView(APIView):
    @extend_schema(
        tags=["contacts"],
        summary="Contact detail (O9)",
        parameters=[CONTACT_ID],
        responses={200: s.ContactSerializer, 404: CONTACT_404, **AUTH_ERRORS},
    )
    def get(self, request, contact_id):
        return Response(
            s.ContactSerializer(services.get_contact(contact_id, selectors.contact_queryset())).data
        )

    @extend_schema(
        tags=["contacts"],
        summary="Update a contact (O10)",
        parameters=[CONTACT_ID],
        request=s.ContactWriteSerializer,
        responses={200: s.ContactSerializer, 400: FIELD_ERRORS, 404: CONTACT_404, **AUTH_ERRORS},
    )
    def patch(self, request, contact_id):
        services.get_contact(contact_id)
        serializer = s.ContactWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return Response(
            s.ContactSerializer(services.update_contact(contact_id, serializer.validated_data)).data
        )

    @extend_schema(
        tags=["contacts"],
        summary="Delete a contact (O11)",
        parameters=[CONTACT_ID],
        responses={200: s.OrganizationsMessageSerializer, 404: CONTACT_404, **AUTH_ERRORS},
    )
    def delete(self, request, contact_id):
        return Response({"message": services.delete_contact(contact_id)})


# --- imports --------------------------------------------------------------------------------------------------

_IMPORT_ERRORS = {
    400: OpenApiResponse(
        s.UploadRejectedSerializer,
        description="No file provided, or not a spreadsheet (`Only .xlsx files are supported.`; .xls, .ods "
        "and .csv are accepted too, recognised by content).",
    ),
    409: OpenApiResponse(s.ConflictSerializer, description="An import of this kind is already running."),
    413: OpenApiResponse(
        s.OrganizationsErrorSerializer, description="File larger than IMPORT_MAX_FILE_BYTES."
    ),
    **AUTH_ERRORS,
}


class _ImportView(APIView):
    kind: str

    def post(self, request):
        job = imports.start_import(
            self.kind, request.FILES.get("file"), imports.parse_dry_run(request.data), request.user
        )
        return Response(imports.started_response(job, request), status=status.HTTP_202_ACCEPTED)


@extend_schema(
    tags=["imports"],
    summary="Import the schools workbook (O12)",
    description="The workbook is stored in object storage and imported by a worker; poll the status URL. "
    "Upsert by URN; see imports-and-geo.md §2.",
    request={"multipart/form-data": s.ImportUploadSerializer},
    responses={202: s.ImportStartedSerializer, **_IMPORT_ERRORS},
)
class OrganizationImportView(_ImportView):
    kind = ImportJob.Kind.ORGANIZATIONS


@extend_schema(
    tags=["imports"],
    summary="Import the school contacts workbook (O13)",
    description="Contacts are matched to schools of their local authority (imports-and-geo.md §3–§4); "
    "unmatched and ambiguous rows are reported, never guessed.",
    request={"multipart/form-data": s.ImportUploadSerializer},
    responses={202: s.ImportStartedSerializer, **_IMPORT_ERRORS},
)
class ContactImportView(_ImportView):
    kind = ImportJob.Kind.CONTACTS


class ImportStatusView(APIView):
    @extend_schema(
        tags=["imports"],
        summary="Import status (O14)",
        parameters=[TASK_ID],
        responses={200: s.ImportStatusSerializer, 404: TASK_404, **AUTH_ERRORS},
    )
    def get(self, request, task_id):
        return Response(imports.job_status(imports.get_job(task_id), request))


class ImportRejectsView(APIView):
    @extend_schema(
        tags=["imports"],
        summary="Rejected rows as CSV (O15)",
        description="UTF-8 with BOM: the original columns plus row, status, code, reason, candidate_urns.",
        parameters=[TASK_ID],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="The CSV file."),
            404: TASK_404,
            **AUTH_ERRORS,
        },
    )
    def get(self, request, task_id):
        job = imports.get_job(task_id)
        handle = imports.open_rejects(job)
        response = FileResponse(
            handle, as_attachment=True, filename=f"import-{job.id}-rejects.csv", content_type="text/csv"
        )
        response["Content-Type"] = "text/csv; charset=utf-8"
        return response


# --- nearby (routed under /api/candidates/) -------------------------------------------------------------------


# Only what a radius search needs: never the CV text or the stored AI result.
_CANDIDATES = Candidate.objects.only(
    "id", "name", "original_filename", "location", "postcode", "latitude", "longitude", "geo_precision"
)


class NearbyOrganizationsView(APIView):
    renderer_classes = [FastJSONRenderer]

    @extend_schema(
        tags=["candidates"],
        summary="Organisations near a candidate (C7)",
        description="Geocoded organisations within the radius of the candidate, nearest first (ties by name, "
        "then id); at most `limit`." + UNIT_NOTE,
        parameters=[CANDIDATE_ID, s.NearbyOrganizationsQuerySerializer],
        responses={
            200: s.NearbyOrganizationsSerializer,
            400: FIELD_ERRORS,
            404: OpenApiResponse(s.OrganizationsErrorSerializer, description="Candidate not found."),
            422: GEO_422,
            **AUTH_ERRORS,
        },
    )
    def get(self, request, candidate_id):
        candidate = get_candidate(candidate_id, _CANDIDATES)
        params = _query(s.NearbyOrganizationsQuerySerializer, request)
        centre = locate.candidate_centre(candidate)
        circle = nearby.Circle(centre.latitude, centre.longitude, params["radius_km"])
        queryset = nearby.nearby_organizations(
            circle,
            phase=params.get("phase"),
            gender=params.get("gender"),
            local_authority=params.get("local_authority"),
            town=params.get("town"),
            search=params.get("search"),
        )
        unit = params["unit"]
        rows, total = nearby.rows_with_total(
            queryset, (*s.DETAIL_VALUE_FIELDS, "distance_km"), params["limit"], s.detail_text_values()
        )
        organizations = [
            {
                "distance_km": s.round2(row["distance_km"]),
                "distance": s.round2(nearby.in_unit(row["distance_km"], unit)),
                "organization": detail,
            }
            for row, detail in zip(rows, s.organization_detail_rows(rows), strict=True)
        ]
        return Response(
            {
                "candidate": str(candidate),
                "candidate_location": candidate.location or candidate.postcode,
                "candidate_lat": centre.latitude,
                "candidate_lng": centre.longitude,
                "candidate_geo_precision": centre.precision,
                "radius_km": params["radius_km"],
                "radius": params["radius"],
                "unit": unit,
                "total_found": total,
                "truncated": total > params["limit"],
                "organizations": organizations,
            }
        )


class NearbyContactsView(APIView):
    @extend_schema(
        tags=["candidates"],
        summary="Contacts near a candidate (C8)",
        description="Contacts of organisations within the radius, ordered by distance, organisation name, "
        "contact person; paginated in SQL. `search` matches any of organisation name, local authority, town, "
        "postcode, contact person, e-mail, job title." + UNIT_NOTE,
        parameters=[CANDIDATE_ID, s.NearbyContactsQuerySerializer],
        responses={
            200: inline_serializer(
                "NearbyContactsPage",
                {
                    "pagination": drf_serializers.DictField(),
                    "results": s.NearbyContactSerializer(many=True),
                    **s.NearbyContactsExtraSerializer().get_fields(),
                },
            ),
            400: FIELD_ERRORS,
            404: OpenApiResponse(
                s.OrganizationsErrorSerializer, description="Candidate not found, or invalid page."
            ),
            422: GEO_422,
            **AUTH_ERRORS,
        },
    )
    def get(self, request, candidate_id):
        candidate = get_candidate(candidate_id, _CANDIDATES)
        params = _query(s.NearbyContactsQuerySerializer, request)
        centre = locate.candidate_centre(candidate)
        circle = nearby.Circle(centre.latitude, centre.longitude, params["radius_km"])
        filters = (
            "phase",
            "gender",
            "local_authority",
            "town",
            "postcode",
            "org_name",
            "job_title",
            "contact_name",
            "contact_email",
            "search",
        )
        queryset = nearby.nearby_contacts(
            circle,
            candidate_id=candidate.pk,
            exclude_contacted=params["exclude_contacted"],
            exclude_suppressed=params["exclude_suppressed"],
            **{name: params.get(name) for name in filters},
        )
        paginator = EnvelopePagination()
        size = paginator.get_page_size(request)
        offset = (_page_number(request) - 1) * size
        keys = paginator.paginate_queryset(
            nearby.nearby_contact_page(queryset, offset, size), request, view=self
        )
        unit = params["unit"]
        results = s.nearby_contact_items(
            nearby.nearby_contact_rows(keys, s.NEARBY_CONTACT_FIELDS, candidate.pk), unit
        )
        return paginator.get_paginated_response(
            results,
            candidate=str(candidate),
            candidate_location=candidate.location or candidate.postcode,
            radius_km=params["radius_km"],
            radius=params["radius"],
            unit=unit,
        )


# --- attribution (public) -------------------------------------------------------------------------------------


@extend_schema(
    tags=["geo"],
    summary="Data attribution (public)",
    description="The licences of the geodata in use require this attribution. " + ATTRIBUTION_DOC,
    responses={200: s.AttributionSerializer},
    auth=[],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def attribution(request):
    return Response({"attribution": attribution_entries()})
