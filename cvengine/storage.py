"""Object storage: one setting switches local files ↔ S3; browsers only ever get short-lived signed links.

Local mode: files live under MEDIA_ROOT and are served by ``/api/files/<token>/`` where the token is a signed,
expiring reference. S3 mode: a private bucket; links are presigned for ``STORAGE_PUBLIC_ENDPOINT`` (what browsers
reach) while the application talks to ``STORAGE_ENDPOINT`` (what the containers reach).
"""

import json
import logging
import mimetypes
import time
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.urls import reverse

logger = logging.getLogger(__name__)
_TOKEN_SALT = "cvengine.files"  # noqa: S105  (not a secret)


def is_s3() -> bool:
    return settings.STORAGE_BACKEND == "s3"


def _s3_options() -> dict:
    return settings.STORAGES["default"]["OPTIONS"]


@lru_cache(maxsize=4)
def _s3_client(endpoint: str | None, access_key: str | None, secret_key: str | None, region: str, style: str):
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region,
        config=Config(signature_version="s3v4", s3={"addressing_style": style}, retries={"max_attempts": 3}),
    )


def s3_client(public: bool = False):
    """A cached client: the internal endpoint for I/O, the public one for signing browser links."""
    opts = _s3_options()
    endpoint = settings.STORAGE_PUBLIC_ENDPOINT if public else settings.STORAGE_ENDPOINT
    return _s3_client(
        endpoint or None,
        opts["access_key"],
        opts["secret_key"],
        opts["region_name"],
        opts["addressing_style"],
    )


def _content_disposition(download_name: str) -> str:
    from django.utils.http import content_disposition_header

    return content_disposition_header(as_attachment=True, filename=download_name)


def signed_url(name: str | None, download_name: str | None = None, ttl: int | None = None) -> str | None:
    """A link to a stored file that expires after ``ttl`` seconds (default FILE_URL_TTL_SECONDS); None if no file."""
    if not name:
        return None
    ttl = ttl or settings.FILE_URL_TTL_SECONDS
    if is_s3():
        params = {"Bucket": settings.STORAGE_BUCKET, "Key": name}
        if download_name:
            params["ResponseContentDisposition"] = _content_disposition(download_name)
        return s3_client(public=True).generate_presigned_url("get_object", Params=params, ExpiresIn=ttl)
    token = signing.dumps(
        {"n": name, "f": download_name or name.rsplit("/", 1)[-1], "e": int(time.time()) + ttl},
        salt=_TOKEN_SALT,
        compress=True,
    )
    return settings.PUBLIC_BASE_URL + reverse("signed-file", args=[token])


def resolve_file_token(token: str) -> tuple[str, str] | None:
    """(storage name, download name) for a valid, unexpired local file token; None otherwise."""
    try:
        data = signing.loads(token, salt=_TOKEN_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("e", 0) < time.time():
        return None
    return data["n"], data["f"]


def guess_content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def delete_files(names: list[str], prefixes: list[str] | tuple[str, ...] = ()) -> int:
    """Delete stored files, plus every file under each prefix (a folder such as ``candidates/enhanced/<id>/``).

    A file that is already gone counts as deleted, a prefix with nothing under it deletes nothing (safe to run
    twice). Returns the number of names deleted plus the number of files found under the prefixes.
    """
    deleted = 0
    for name in names:
        if name:
            default_storage.delete(name)
            deleted += 1
    for prefix in prefixes:
        for name in list_prefix(prefix):
            default_storage.delete(name)
            deleted += 1
        if not is_s3():
            _remove_empty_dirs(prefix)
    return deleted


def _check_prefix(prefix: str) -> str:
    """A prefix must name a folder at least two levels deep: never the whole store by accident."""
    parts = prefix.split("/")
    if (
        not prefix.endswith("/")
        or prefix.startswith("/")
        or len(parts) < 3
        or any(part in ("", ".", "..") for part in parts[:-1])
    ):
        raise ValueError(f"Refusing to delete by an unsafe prefix: {prefix!r}")
    return prefix


def list_prefix(prefix: str) -> list[str]:
    """Every stored file whose name starts with the folder ``prefix`` (recursively, both backends)."""
    pending, found = [_check_prefix(prefix)], []
    while pending:
        folder = pending.pop()
        try:
            dirs, files = default_storage.listdir(folder)
        except FileNotFoundError:
            continue
        found.extend(folder + name for name in files)
        pending.extend(f"{folder}{name}/" for name in dirs)
    return found


def _remove_empty_dirs(prefix: str) -> None:
    """Local mode: drop the now-empty folder (and empty sub-folders) so deleted owners leave no trace."""
    import contextlib
    import os

    root = default_storage.path(prefix)
    for path, _dirs, _files in sorted(os.walk(root), key=lambda entry: -len(entry[0])):
        with contextlib.suppress(OSError):  # not empty, or already gone
            os.rmdir(path)


def check_storage() -> None:
    """Raise if storage is unreachable (used by the health check)."""
    if is_s3():
        s3_client().head_bucket(Bucket=settings.STORAGE_BUCKET)
    else:
        settings.MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
        probe = settings.MEDIA_ROOT / ".health"
        probe.write_bytes(b"ok")


def public_access_problems() -> list[str]:
    """Reasons the bucket is readable by anyone (policy or ACL); empty when private."""
    import botocore.exceptions

    client, bucket, problems = s3_client(), settings.STORAGE_BUCKET, []
    try:
        policy = json.loads(client.get_bucket_policy(Bucket=bucket)["Policy"])
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in (
            "NoSuchBucketPolicy",
            "NoSuchBucket",
            "NotImplemented",
        ):
            raise
        policy = {}
    for statement in policy.get("Statement", []):
        principal = statement.get("Principal")
        anyone = principal == "*" or (isinstance(principal, dict) and "*" in _as_list(principal.get("AWS")))
        actions = _as_list(statement.get("Action"))
        if (
            statement.get("Effect") == "Allow"
            and anyone
            and any(a in ("s3:GetObject", "s3:*", "*") for a in actions)
        ):
            problems.append("bucket policy allows anonymous s3:GetObject")
    try:
        grants = client.get_bucket_acl(Bucket=bucket).get("Grants", [])
    except botocore.exceptions.ClientError:
        grants = []
    for grant in grants:
        uri = grant.get("Grantee", {}).get("URI", "")
        if uri.endswith("/global/AllUsers") or uri.endswith("/global/AuthenticatedUsers"):
            problems.append(f"bucket ACL grants {grant.get('Permission')} to {uri.rsplit('/', 1)[-1]}")
    return problems


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def ensure_bucket() -> bool:
    """Create the bucket if missing (private, no ACL). Returns True when it was created."""
    import botocore.exceptions

    client, bucket = s3_client(), settings.STORAGE_BUCKET
    try:
        client.head_bucket(Bucket=bucket)
        return False
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
    kwargs = {"Bucket": bucket}
    region = _s3_options()["region_name"]
    if region and region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    client.create_bucket(**kwargs)
    return True
