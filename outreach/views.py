"""Outreach endpoints (api.md §5). Thin: validate, delegate to services/selectors, shape the response."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http.request import RawPostDataException
from django.template.loader import render_to_string
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from cvengine.api import APIError

from . import selectors, serializers, services, webhooks
from .models import OutreachMessage
from .unsubscribe import mask_email, read_token

# --- under /api/candidates/ -------------------------------------------------------------------------------------


class SendToContactsView(APIView):
    @extend_schema(
        operation_id="candidates_send_to_contacts",
        request=serializers.SendToContactsSerializer,
        responses={
            202: serializers.SendAcceptedSerializer,
            400: OpenApiResponse(description="Invalid fields, no subject/body, or bad contact_ids."),
            404: serializers.OutreachErrorSerializer,
            409: OpenApiResponse(serializers.OutreachErrorSerializer, description="cv_not_ready"),
            422: OpenApiResponse(serializers.PIIGuardErrorSerializer, description="pii_in_outreach"),
            503: OpenApiResponse(serializers.OutreachErrorSerializer, description="email_unavailable"),
        },
        tags=["outreach"],
    )
    def post(self, request, candidate_id):
        """E-mail the candidate's anonymised profile and enhanced CV to up to 1000 school contacts."""
        candidate = selectors.get_candidate(candidate_id)
        services.ensure_cv_ready(candidate)
        options = serializers.SendOptionsSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        body = services.start_outreach(
            candidate,
            contact_ids_raw=services.raw_contact_ids(request.data),
            user=request.user,
            **options.validated_data,
        )
        return Response(body, status=status.HTTP_202_ACCEPTED)


class SendStatusView(APIView):
    @extend_schema(
        operation_id="candidates_send_status",
        responses={200: serializers.SendStatusSerializer, 404: serializers.OutreachErrorSerializer},
        tags=["outreach"],
    )
    def get(self, request, task_id):
        """Progress, then summary and per-contact results of a send-to-contacts job."""
        return Response(selectors.send_status(selectors.get_job(task_id)))


class OutreachHistoryView(generics.ListAPIView):
    serializer_class = serializers.OutreachMessageSerializer
    filterset_class = serializers.OutreachHistoryFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return OutreachMessage.objects.none()
        return selectors.outreach_history(selectors.get_candidate(self.kwargs["candidate_id"]))

    @extend_schema(operation_id="candidates_outreach_history", tags=["outreach"])
    def get(self, request, *args, **kwargs):
        """Every outreach e-mail record of the candidate, newest first."""
        return super().get(request, *args, **kwargs)


# --- under /api/outreach/ ---------------------------------------------------------------------------------------


class UnsubscribePageRenderer(BaseRenderer):
    """The confirmation/result page; the default for browsers and mail clients."""

    media_type = "text/html"
    format = "html"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = renderer_context.get("response") if renderer_context else None
        data = data if isinstance(data, dict) else {}
        failed = response is not None and response.status_code >= 400
        context = {
            "agency_name": settings.AGENCY_NAME,
            "email": data.get("email", ""),
            "done": bool(data.get("unsubscribed")),
            "error": failed,
            "detail": data.get("detail", ""),
        }
        return render_to_string("outreach/unsubscribe.html", context)


# The page is HTML unless the client asks for JSON, errors and the per-IP limit included.
UNSUBSCRIBE_RESPONSES = {
    (200, "application/json"): serializers.UnsubscribeSerializer,
    (200, "text/html"): OpenApiTypes.STR,
    (404, "application/json"): serializers.OutreachErrorSerializer,
    (404, "text/html"): OpenApiTypes.STR,
    (429, "application/json"): serializers.ThrottledSerializer,
    (429, "text/html"): OpenApiTypes.STR,
}


class UnsubscribeView(APIView):
    """Public one-click unsubscribe: GET only shows the page (link scanners), POST suppresses the address."""

    authentication_classes: list = []  # public: cookies and tokens are ignored, so no CSRF either
    permission_classes = [AllowAny]
    throttle_classes: list = []  # set below (accounts' shared counter)
    renderer_classes = [UnsubscribePageRenderer, JSONRenderer]
    parser_classes: list = []  # the body ("List-Unsubscribe=One-Click", a form or nothing) is never parsed

    def get_throttles(self):
        from accounts.throttles import UnsubscribeThrottle

        return [UnsubscribeThrottle()]

    def _address(self, token):
        address = read_token(token)
        if address is None:
            raise APIError("This unsubscribe link is not valid.", "invalid_token", status.HTTP_404_NOT_FOUND)
        return address

    @extend_schema(
        operation_id="outreach_unsubscribe_confirm",
        auth=[],
        responses=UNSUBSCRIBE_RESPONSES,
        tags=["outreach"],
    )
    def get(self, request, token):
        """Confirmation page with the masked address and a button that POSTs; never changes anything."""
        address = self._address(token)
        return Response(
            {"detail": "Confirm to unsubscribe.", "email": mask_email(address), "unsubscribed": False}
        )

    @extend_schema(
        operation_id="outreach_unsubscribe",
        auth=[],
        request=None,
        responses=UNSUBSCRIBE_RESPONSES,
        examples=[
            OpenApiExample(
                "unsubscribed",
                value={"detail": "You have been unsubscribed.", "email": "j***@school.org.uk"},
                response_only=True,
            )
        ],
        tags=["outreach"],
    )
    def post(self, request, token):
        """RFC 8058 one-click unsubscribe (any body, any content type); idempotent."""
        address = services.unsubscribe(token)
        if address is None:
            self._address(token)  # 404
        return Response(
            {"detail": "You have been unsubscribed.", "email": mask_email(address), "unsubscribed": True}
        )


class DeliveryEventsView(APIView):
    """Provider event webhook: the signature over the raw body is the only credential."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes: list = []  # verified on the raw bytes, parsed afterwards

    @extend_schema(
        operation_id="outreach_delivery_events",
        auth=[],
        # Keyed by media type: the view has no parsers (it verifies the raw bytes), so none would be inferred.
        request={"application/json": serializers.ProviderEventSerializer(many=True)},
        parameters=[
            OpenApiParameter(
                webhooks.SENDGRID_SIGNATURE, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False
            ),
            OpenApiParameter(
                webhooks.SENDGRID_TIMESTAMP, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False
            ),
            OpenApiParameter(
                webhooks.HMAC_SIGNATURE, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False
            ),
            OpenApiParameter(
                webhooks.HMAC_TIMESTAMP, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False
            ),
        ],
        responses={
            200: serializers.DeliveryEventsResultSerializer,
            400: serializers.OutreachErrorSerializer,
            403: serializers.OutreachErrorSerializer,
        },
        tags=["outreach"],
    )
    def post(self, request):
        """Delivery, bounce, spam-report and unsubscribe events; de-duplicated by event id."""
        try:
            body = request._request.body
        except RequestDataTooBig:
            raise APIError("Request body too large.", "too_large", status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        except RawPostDataException:  # pragma: no cover - nothing reads the stream before this view
            raise APIError("Malformed JSON.", "malformed_json")
        try:
            result = webhooks.process(body, request.headers)
        except webhooks.InvalidSignature:
            return Response({"detail": "Invalid signature."}, status=status.HTTP_403_FORBIDDEN)
        except webhooks.MalformedPayload as exc:
            raise APIError(str(exc), "malformed_json")
        return Response(result)


class SuppressionListView(generics.ListCreateAPIView):
    serializer_class = serializers.SuppressionSerializer
    filterset_class = serializers.SuppressionFilter

    def get_queryset(self):
        return selectors.suppressions()

    def get_serializer_class(self):
        if self.request is not None and self.request.method == "POST":
            return serializers.SuppressionCreateSerializer
        return serializers.SuppressionSerializer

    @extend_schema(operation_id="outreach_suppressions_list", tags=["outreach"])
    def get(self, request, *args, **kwargs):
        """Addresses that are never e-mailed."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="outreach_suppressions_create",
        request=serializers.SuppressionCreateSerializer,
        responses={201: serializers.SuppressionSerializer, 200: serializers.SuppressionSerializer},
        tags=["outreach"],
    )
    def post(self, request, *args, **kwargs):
        """Add an address (reason manual); an address already listed → 200 with its entry."""
        data = serializers.SuppressionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry, created = services.add_manual_suppression(**data.validated_data)
        return Response(
            serializers.SuppressionSerializer(entry).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class SuppressionDetailView(APIView):
    @extend_schema(
        operation_id="outreach_suppressions_delete",
        responses={
            200: serializers.OutreachErrorSerializer,
            404: serializers.OutreachErrorSerializer,
            409: OpenApiResponse(serializers.OutreachErrorSerializer, description="suppression_locked"),
        },
        tags=["outreach"],
    )
    def delete(self, request, suppression_id):
        """Remove a manual or bounce entry (unsubscribes and spam reports are locked)."""
        services.remove_suppression(selectors.get_suppression(suppression_id))
        return Response({"detail": "Suppression removed."})
