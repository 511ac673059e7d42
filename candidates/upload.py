"""C2 upload endpoint (api.md §3): up to UPLOAD_MAX_FILES CVs in one multipart request, spooled to disk."""

import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from cvengine.api import APIError

from .ingest import ingest
from .serializers import BatchSerializer, FileOutcomeSerializer, StringListField

_EMPTY = ("", "null", "none")


class ExperienceField(serializers.FloatField):
    """Years of experience as a number string; "", "null" and "none" mean absent."""

    def validate_empty_values(self, data):
        if isinstance(data, str) and data.strip().lower() in _EMPTY:
            return True, None
        return super().validate_empty_values(data)


class AdditionalInfoSerializer(serializers.Serializer):
    experience = ExperienceField(min_value=0, max_value=60, required=False, allow_null=True)
    skills = StringListField(required=False)
    job_role = StringListField(required=False)
    current_location = serializers.CharField(
        max_length=255, required=False, allow_blank=True, allow_null=True
    )


class UploadSerializer(AdditionalInfoSerializer):
    additional_info = serializers.CharField(required=False, allow_blank=True)
    force = serializers.BooleanField(required=False, default=False)

    def validate_additional_info(self, value):
        if not value.strip():
            return {}
        try:
            data = json.loads(value)
        except ValueError:
            raise serializers.ValidationError("Enter a JSON object.")
        if not isinstance(data, dict):
            raise serializers.ValidationError("Enter a JSON object.")
        nested = AdditionalInfoSerializer(data=data)
        if not nested.is_valid():
            raise serializers.ValidationError(nested.errors)
        return nested.validated_data

    def additional_info_dict(self) -> dict:
        """The batch hints: additional_info's keys, overridden by the separate fields; empty values dropped."""
        data = self.validated_data
        merged = {**data.get("additional_info", {})}
        for key in ("experience", "skills", "job_role", "current_location"):
            if key in data:
                merged[key] = data[key]
        return {key: value for key, value in merged.items() if value not in (None, "", [])}


class _Multipart(MultiPartParser):
    """Every file is spooled to a temporary file, never held in memory (1000 CVs in one request)."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = parser_context["request"]
        request._request.upload_handlers = [TemporaryFileUploadHandler(request._request)]
        return super().parse(stream, media_type, parser_context)


def _too_many_files() -> ValidationError:
    return ValidationError({"files": [f"At most {settings.UPLOAD_MAX_FILES} files per request."]})


@extend_schema(
    operation_id="candidates_upload",
    request={
        "multipart/form-data": inline_serializer(
            "UploadRequest",
            {
                "files": serializers.ListField(child=serializers.FileField()),
                "experience": serializers.CharField(required=False),
                "skills": serializers.ListField(child=serializers.CharField(), required=False),
                "job_role": serializers.ListField(child=serializers.CharField(), required=False),
                "current_location": serializers.CharField(required=False),
                "additional_info": serializers.CharField(required=False),
                "force": serializers.BooleanField(required=False),
            },
        )
    },
    responses={
        202: inline_serializer(
            "UploadAccepted",
            {
                "message": serializers.CharField(),
                "batch": BatchSerializer(),
                "accepted": serializers.IntegerField(),
                "duplicates": serializers.IntegerField(),
                "rejected": serializers.IntegerField(),
                "files": FileOutcomeSerializer(many=True),
            },
        ),
        400: OpenApiResponse(description="No files, too many files, bad metadata, or no file accepted."),
        413: OpenApiResponse(description="Request body larger than UPLOAD_MAX_REQUEST_BYTES."),
        415: OpenApiResponse(description="Not multipart/form-data."),
    },
)
@api_view(["POST"])
@parser_classes([_Multipart])
def upload_view(request):
    if int(request.META.get("CONTENT_LENGTH") or 0) > settings.UPLOAD_MAX_REQUEST_BYTES:
        raise APIError(
            "Request body too large.", "request_too_large", status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        )
    try:
        files = request.FILES.getlist("files")
    except TooManyFilesSent:
        raise _too_many_files()
    except RequestDataTooBig:
        raise APIError(
            "Request body too large.", "request_too_large", status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        )
    if not files:
        raise ValidationError({"files": ["No files were submitted."]})
    if len(files) > settings.UPLOAD_MAX_FILES:
        raise _too_many_files()
    metadata = UploadSerializer(data=request.data)
    metadata.is_valid(raise_exception=True)
    result = ingest(
        files, metadata.additional_info_dict(), request.user, force=metadata.validated_data["force"]
    )
    outcomes = FileOutcomeSerializer(result.outcomes, many=True).data
    if result.batch is None:
        raise APIError("No file was accepted.", "no_acceptable_files", files=outcomes)
    accepted = result.count("accepted")
    return Response(
        {
            "message": f"{accepted} CV(s) accepted and queued for processing.",
            "batch": BatchSerializer(result.batch).data,
            "accepted": accepted,
            "duplicates": result.count("duplicate"),
            "rejected": result.count("rejected"),
            "files": outcomes,
        },
        status=status.HTTP_202_ACCEPTED,
    )
