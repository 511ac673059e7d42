"""API conventions shared by every app: the pagination envelope and the error format."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


class EnvelopePagination(PageNumberPagination):
    """``{"pagination": {...}, "results": [...]}``; page_size 20 by default, at most 100, 0 or junk → 20."""

    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"
    invalid_page_message = "Invalid page."

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        try:
            size = int(raw)
        except (TypeError, ValueError):
            return self.page_size
        if size <= 0:
            return self.page_size
        return min(size, self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param, "1")
        if not raw.isdigit() or int(raw) < 1:
            raise exceptions.NotFound(self.invalid_page_message)
        return super().paginate_queryset(queryset, request, view)

    def envelope(self, results) -> dict:
        page = self.page
        return {
            "pagination": {
                "total": page.paginator.count,
                "page": page.number,
                "page_size": page.paginator.per_page,
                "total_pages": page.paginator.num_pages,
                "has_next": page.has_next(),
                "has_previous": page.has_previous(),
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
            },
            "results": results,
        }

    def get_paginated_response(self, data, **extra):
        return Response({**self.envelope(data), **extra})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["pagination", "results"],
            "properties": {
                "pagination": {
                    "type": "object",
                    "properties": {
                        "total": {"type": "integer"},
                        "page": {"type": "integer"},
                        "page_size": {"type": "integer"},
                        "total_pages": {"type": "integer"},
                        "has_next": {"type": "boolean"},
                        "has_previous": {"type": "boolean"},
                        "next": {"type": "string", "format": "uri", "nullable": True},
                        "previous": {"type": "string", "format": "uri", "nullable": True},
                    },
                },
                "results": schema,
            },
        }


class PaginationSerializer(serializers.Serializer):
    """The ``pagination`` object of the envelope (api.md §1.7), for schemas of hand-paginated views."""

    total = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    total_pages = serializers.IntegerField()
    has_next = serializers.BooleanField()
    has_previous = serializers.BooleanField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


def envelope_schema(name: str, item_serializer, **extra_fields):
    """Response schema of an ``APIView`` that paginates by hand (drf-spectacular only wraps generic list views)."""
    from drf_spectacular.utils import inline_serializer

    fields = {"pagination": PaginationSerializer(), "results": item_serializer(many=True), **extra_fields}
    return inline_serializer(name, fields)


class APIError(exceptions.APIException):
    """A hand-written error: ``{"detail": ..., "code": ...}`` plus any extra keys the contract lists."""

    def __init__(self, detail: str, code: str, status_code: int = status.HTTP_400_BAD_REQUEST, **extra):
        super().__init__(detail=detail, code=code)
        self.status_code = status_code
        self.code = code
        self.extra = extra


def exception_handler(exc, context):
    from rest_framework.views import exception_handler as drf_exception_handler  # (circular at settings load)

    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) if str(exc) else "Not found.")
    elif isinstance(exc, RequestDataTooBig):  # raised while DRF parses the body: JSON, not Django's HTML page
        exc = APIError(
            "Request body too large.", "request_too_large", status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        )
    elif isinstance(exc, SuspiciousOperation):  # e.g. more form fields than DATA_UPLOAD_MAX_NUMBER_FIELDS
        exc = APIError("Malformed request.", "bad_request")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, APIError):
        return Response({"detail": str(exc.detail), "code": exc.code, **exc.extra}, status=exc.status_code)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        response.data = {
            "detail": "Request was throttled. Try again later.",
            "retry_after": wait,
            **getattr(exc, "extra", {}),
        }
        response["Retry-After"] = str(wait)
    if response.status_code == 401 and getattr(exc, "clear_auth_cookies", False):
        from accounts.tokens import delete_auth_cookies

        delete_auth_cookies(response)  # a rejected auth cookie is deleted (api.md §1.2)
    return response
