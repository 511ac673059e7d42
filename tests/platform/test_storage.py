import json
import time
import urllib.error
import urllib.request
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from cvengine import storage


def _fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers, response.read()


def _save(content=b"%PDF-1.7 fake", suffix=".pdf"):
    return default_storage.save(f"tests/storage/{uuid.uuid4().hex}{suffix}", ContentFile(content))


pytestmark = pytest.mark.skipif(not storage.is_s3(), reason="S3 checks run in the services profile")


class TestS3:
    def test_bucket_is_private_and_objects_need_a_signature(self, settings):
        name = _save()
        anonymous = f"{settings.STORAGE_ENDPOINT}/{settings.STORAGE_BUCKET}/{name}"
        with pytest.raises(urllib.error.HTTPError) as err:
            _fetch(anonymous)
        assert err.value.code == 403
        assert storage.public_access_problems() == []

    def test_presigned_link_downloads_with_a_file_name_then_expires(self):
        name = _save(b"cv bytes")
        url = storage.signed_url(name, "Sarah - CV.pdf", ttl=2)
        status, headers, body = _fetch(url)
        assert (status, body) == (200, b"cv bytes")
        assert 'filename="Sarah - CV.pdf"' in headers["Content-Disposition"]
        time.sleep(3)
        with pytest.raises(urllib.error.HTTPError) as err:
            _fetch(url)
        assert err.value.code == 403

    def test_tampered_link_is_refused(self):
        url = storage.signed_url(_save(), "x.pdf")
        with pytest.raises(urllib.error.HTTPError) as err:
            _fetch(url.replace("X-Amz-Expires=900", "X-Amz-Expires=90000"))
        assert err.value.code == 403

    def test_links_are_signed_for_the_public_endpoint(self, settings):
        settings.STORAGE_PUBLIC_ENDPOINT = "https://files.example.org"
        url = storage.signed_url("candidates/x.pdf")
        assert url.startswith(f"https://files.example.org/{settings.STORAGE_BUCKET}/candidates/x.pdf?")
        assert "X-Amz-Signature=" in url and "X-Amz-Expires=900" in url

    def test_delete_is_idempotent(self):
        name = _save()
        assert storage.delete_files([name, name, ""]) == 2
        assert not default_storage.exists(name)

    def test_public_policy_is_detected(self, settings):
        client = storage.s3_client()
        bucket = f"cvengine-public-{uuid.uuid4().hex[:8]}"
        client.create_bucket(Bucket=bucket)
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["s3:GetObject"],
                    "Resource": [f"arn:aws:s3:::{bucket}/*"],
                }
            ],
        }
        client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
        settings.STORAGE_BUCKET = bucket
        assert storage.public_access_problems() == ["bucket policy allows anonymous s3:GetObject"]

        from django.core.checks import run_checks

        errors = [e for e in run_checks(include_deployment_checks=True) if e.id == "cvengine.E001"]
        assert errors and bucket in errors[0].msg

    def test_ensure_bucket_creates_a_missing_bucket_once(self, settings):
        settings.STORAGE_BUCKET = f"cvengine-new-{uuid.uuid4().hex[:8]}"
        assert storage.ensure_bucket() is True
        assert storage.ensure_bucket() is False
        storage.check_storage()
