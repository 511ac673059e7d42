"""Start-up checks run by ``manage.py check --deploy`` (the production entrypoint runs it before serving)."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def bucket_is_private(app_configs, **kwargs):
    if settings.STORAGE_BACKEND != "s3":
        return []
    from . import storage

    try:
        problems = storage.public_access_problems()
    except Exception as exc:  # unreachable storage is reported, not hidden
        return [
            Warning(f"Could not verify that the bucket is private: {type(exc).__name__}", id="cvengine.W001")
        ]
    return [
        Error(
            f"Bucket '{settings.STORAGE_BUCKET}' is publicly readable: {problem}.",
            hint="CVs are personal data: remove the public policy/ACL. Links are presigned and expire.",
            id="cvengine.E001",
        )
        for problem in problems
    ]
