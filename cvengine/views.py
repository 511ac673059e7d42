import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.core.files.storage import default_storage
from django.db import connection
from django.http import FileResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from . import storage
from .celery import app as celery_app

CHECK_TIMEOUT_SECONDS = 2.0
CACHE_SECONDS = 5.0
_cache: dict = {"at": 0.0, "result": None}
_lock = threading.Lock()
_executor = ThreadPoolExecutor(max_workers=3, thread_name_prefix="health")


def _check_db():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()  # this runs in a pool thread: do not leak its connection


def _check_broker():
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)
        conn.default_channel  # noqa: B018  (opens a channel: proves the broker answers)


CHECKS = {"db": _check_db, "broker": _check_broker, "storage": storage.check_storage}


def run_checks() -> dict[str, str]:
    futures = {name: _executor.submit(fn) for name, fn in CHECKS.items()}
    deadline = time.monotonic() + CHECK_TIMEOUT_SECONDS
    results = {}
    for name, future in futures.items():
        try:
            future.result(timeout=max(0.0, deadline - time.monotonic()))
            results[name] = "ok"
        except (Exception, FutureTimeout):
            results[name] = "fail"
    return results


HealthSerializer = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(["ok", "degraded"]),
        "checks": serializers.DictField(child=serializers.CharField()),
    },
)


@extend_schema(responses={200: HealthSerializer, 503: HealthSerializer}, auth=[])
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def health(request):
    """Database, broker and storage reachability. No versions, hosts or error text; cached for 5 s."""
    with _lock:
        if _cache["result"] is None or time.monotonic() - _cache["at"] > CACHE_SECONDS:
            _cache["result"], _cache["at"] = run_checks(), time.monotonic()
        checks = dict(_cache["result"])
    healthy = all(v == "ok" for v in checks.values())
    return Response(
        {"status": "ok" if healthy else "degraded", "checks": checks}, status=200 if healthy else 503
    )


@extend_schema(exclude=True)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def signed_file(request, token):
    """Local-storage download for a signed, expiring token (S3 mode hands out presigned URLs instead)."""
    resolved = storage.resolve_file_token(token)
    if resolved is None:
        return Response({"detail": "Link expired or invalid."}, status=403)
    name, download_name = resolved
    try:
        handle = default_storage.open(name, "rb")
    except (FileNotFoundError, OSError):
        return Response({"detail": "Link expired or invalid."}, status=403)
    response = FileResponse(
        handle, as_attachment=True, filename=download_name, content_type=storage.guess_content_type(name)
    )
    response["Cache-Control"] = "private, no-store"
    return response
