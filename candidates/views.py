"""Candidates and batches API (api.md §3: C1, C4, C5, C6, C9, C10, C12–C16). Thin: validate, delegate, shape."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import generics, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, serializers, services
from .models import Candidate, RewriteStatus

CANDIDATE_ID = OpenApiParameter(
    "candidate_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Candidate id."
)
BATCH_ID = OpenApiParameter("batch_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Batch id.")
_ERROR = serializers.CandidateErrorSerializer
CANDIDATE_404 = OpenApiResponse(_ERROR, description="Candidate not found.")
BATCH_404 = OpenApiResponse(_ERROR, description="Batch not found.")
FIELD_ERRORS = OpenApiResponse(
    OpenApiTypes.OBJECT, description="Field errors: {field: [messages]} (list elements keyed by index)."
)
AUTH_ERRORS = {
    401: OpenApiResponse(_ERROR, description="Not authenticated."),
    403: OpenApiResponse(_ERROR, description="Not an operator."),
}


def _detail(candidate, **context):
    return serializers.CandidateDetailSerializer(candidate, context=context).data


# --- candidates ---------------------------------------------------------------------------------------------------


@extend_schema(
    tags=["candidates"],
    summary="List candidates (C1)",
    responses={200: serializers.CandidateListItemSerializer(many=True), 400: FIELD_ERRORS, **AUTH_ERRORS},
)
class CandidateListView(generics.ListAPIView):
    """Newest first. Exact filters are validated (unknown value → 400); text filters match case-insensitive
    substrings; `skills` / `job_titles` may repeat and each value must match one list element."""

    serializer_class = serializers.CandidateListItemSerializer
    filterset_class = selectors.CandidateFilter

    def get_queryset(self):
        return selectors.candidate_list_queryset()


@extend_schema(
    tags=["candidates"],
    summary="Candidate detail (C4)",
    parameters=[CANDIDATE_ID],
    responses={200: serializers.CandidateDetailSerializer, 404: CANDIDATE_404, **AUTH_ERRORS},
)
class CandidateDetailView(APIView):
    def get(self, request, candidate_id):
        candidate = services.get_candidate(candidate_id, selectors.candidate_detail_queryset())
        return Response(_detail(candidate))


@extend_schema(
    tags=["candidates"],
    summary="Update a candidate (C5)",
    parameters=[CANDIDATE_ID],
    request={
        "application/json": serializers.CandidateUpdateSerializer,
        "multipart/form-data": serializers.CandidateUpdateSerializer,
        "application/x-www-form-urlencoded": serializers.CandidateUpdateSerializer,
    },
    responses={
        200: serializers.CandidateDetailSerializer,
        400: FIELD_ERRORS,
        404: CANDIDATE_404,
        **AUTH_ERRORS,
    },
)
class CandidateUpdateView(APIView):
    """Partial update. Every changed field is recorded as operator-edited (never overwritten by re-analysis).
    A PDF re-render is queued only when the rendered content changes; the response then has
    `enhanced_cv_url: null` and a `cv_status_message`. A changed location or postcode recomputes coordinates."""

    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def patch(self, request, candidate_id):
        current = services.get_candidate(candidate_id, selectors.candidate_detail_queryset())
        serializer = serializers.CandidateUpdateSerializer(current, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        result = services.update_candidate(current.pk, serializer.validated_data)
        return Response(_detail(result.candidate, regenerating=result.regenerating))


@extend_schema(
    tags=["candidates"],
    summary="Delete a candidate (C6)",
    parameters=[CANDIDATE_ID],
    responses={200: serializers.CandidateMessageSerializer, 404: CANDIDATE_404, **AUTH_ERRORS},
)
class CandidateDeleteView(APIView):
    def delete(self, request, candidate_id):
        label, files = services.delete_candidate(candidate_id)
        return Response({"message": f"Candidate '{label}' deleted. {files} file(s) queued for cleanup."})


@extend_schema(
    tags=["candidates"],
    summary="Start an AI rewrite (C9)",
    parameters=[CANDIDATE_ID],
    request=serializers.RewriteRequestSerializer,
    responses={
        202: serializers.RewriteStartedSerializer,
        400: OpenApiResponse(
            serializers.RewriteInProgressErrorSerializer,
            description="No AI content; rewrite already in progress (with `rewrite_task_id`); "
            "data_extracted empty; or field errors.",
        ),
        404: CANDIDATE_404,
        **AUTH_ERRORS,
    },
)
class CandidateRewriteView(APIView):
    def post(self, request, candidate_id):
        services.get_candidate(candidate_id, Candidate.objects.only("id"))  # 404 comes first
        serializer = serializers.RewriteRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task_id = services.start_rewrite(
            candidate_id, serializer.validated_data.get("instruction"), request.user
        )
        return Response(
            {
                "message": "CV rewrite started.",
                "rewrite_task_id": str(task_id),
                "rewrite_status": RewriteStatus.PROCESSING.value,
            },
            status=status.HTTP_202_ACCEPTED,
        )


@extend_schema(
    tags=["candidates"],
    summary="Rewrite status (C10)",
    parameters=[CANDIDATE_ID],
    responses={
        200: PolymorphicProxySerializer(
            component_name="RewriteStatusResponse",
            serializers={
                "processing": serializers.RewriteProcessingSerializer,
                "failed": serializers.RewriteFailedSerializer,
                "completed": serializers.RewriteCompletedSerializer,
                "idle": serializers.RewriteIdleSerializer,
            },
            resource_type_field_name="rewrite_status",
        ),
        404: CANDIDATE_404,
        **AUTH_ERRORS,
    },
)
class CandidateRewriteStatusView(APIView):
    def get(self, request, candidate_id):
        candidate = services.get_candidate(candidate_id, selectors.candidate_detail_queryset())
        state = candidate.rewrite_status
        if state == RewriteStatus.PROCESSING:
            body = {
                "rewrite_status": state,
                "message": "CV rewrite is still in progress.",
                "rewrite_task_id": str(candidate.rewrite_task_id) if candidate.rewrite_task_id else None,
            }
        elif state == RewriteStatus.FAILED:
            body = {"rewrite_status": state, "rewrite_failure_reason": candidate.rewrite_failure_reason}
        elif state == RewriteStatus.COMPLETED:
            body = {"rewrite_status": state, "candidate": _detail(candidate)}
        else:
            body = {
                "rewrite_status": RewriteStatus.IDLE.value,
                "message": "No rewrite has been started for this candidate.",
            }
        return Response(body)


@extend_schema(
    tags=["candidates"],
    summary="Retry a failed or stuck candidate (C15)",
    parameters=[CANDIDATE_ID],
    request=None,
    responses={
        202: serializers.RetryStartedSerializer,
        404: CANDIDATE_404,
        409: OpenApiResponse(
            serializers.NotRetryableSerializer, description="Candidate is not failed or stuck."
        ),
        **AUTH_ERRORS,
    },
)
class CandidateRetryView(APIView):
    def post(self, request, candidate_id):
        candidate, from_stage = services.retry_candidate(candidate_id)
        return Response(
            {
                "message": "Processing restarted.",
                "candidate_id": str(candidate.pk),
                "from_stage": from_stage,
                "ai_processing_status": "in_progress",
            },
            status=status.HTTP_202_ACCEPTED,
        )


# --- batches ------------------------------------------------------------------------------------------------------


@extend_schema(
    tags=["batches"],
    summary="List batches (C12)",
    responses={200: serializers.BatchSerializer(many=True), 400: FIELD_ERRORS, **AUTH_ERRORS},
)
class BatchListView(generics.ListAPIView):
    """Newest first; counts and status are live aggregates over the batch's current candidates."""

    serializer_class = serializers.BatchSerializer
    filterset_class = selectors.BatchFilter

    def get_queryset(self):
        return selectors.batch_queryset()


@extend_schema(
    tags=["batches"],
    summary="Batch detail with upload outcomes (C13)",
    parameters=[BATCH_ID],
    responses={200: serializers.BatchDetailSerializer, 404: BATCH_404, **AUTH_ERRORS},
)
class BatchDetailView(APIView):
    def get(self, request, batch_id):
        batch = services.get_batch(batch_id, selectors.batch_queryset())
        return Response(serializers.BatchDetailSerializer(batch).data)


@extend_schema(
    tags=["batches"],
    summary="Delete a batch and its candidates (C14)",
    parameters=[BATCH_ID],
    responses={200: serializers.BatchDeletedSerializer, 404: BATCH_404, **AUTH_ERRORS},
)
class BatchDeleteView(APIView):
    def delete(self, request, batch_id):
        deleted, files = services.delete_batch(batch_id)
        return Response(
            {"message": "Batch deleted successfully.", "candidates_deleted": deleted, "files_queued": files}
        )


@extend_schema(
    tags=["batches"],
    summary="Re-queue every failed candidate of a batch (C16)",
    parameters=[BATCH_ID],
    request=None,
    responses={202: serializers.RetryFailedSerializer, 404: BATCH_404, **AUTH_ERRORS},
)
class BatchRetryFailedView(APIView):
    def post(self, request, batch_id):
        ids = services.retry_failed(batch_id)
        return Response(
            {"message": f"{len(ids)} candidate(s) re-queued.", "retried": len(ids), "candidate_ids": ids},
            status=status.HTTP_202_ACCEPTED,
        )
