import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.sqlite


def _compose():
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    ):
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise AssertionError("docker compose is not installed (make test installs Debian's docker-compose)")


def test_compose_file_is_valid_and_lists_every_role():
    env = {
        **os.environ,
        "SECRET_KEY": "s" * 50,
        "PASSWORD_RESET_OTP_PEPPER": "p" * 40,
        "POSTGRES_PASSWORD": "pg",
        "MINIO_ROOT_USER": "minio",
        "MINIO_ROOT_PASSWORD": "minio-secret",
        "AI_SERVICE_TOKEN": "t" * 32,
    }
    result = subprocess.run(
        [*_compose(), "-f", "deploy/docker-compose.yml", "config", "--services"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    services = set(result.stdout.split())
    assert services == {
        "postgres",
        "redis",
        "minio",
        "migrate",
        "web",
        "worker-default",
        "worker-ai",
        "worker-pdf",
        "worker-email",
        "beat",
        "ai",
    }


def test_compose_refuses_to_start_without_secrets():
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "POSTGRES_PASSWORD")}
    result = subprocess.run(
        [*_compose(), "-f", "deploy/docker-compose.yml", "config"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "set" in result.stderr


def test_dockerfile_runs_as_non_root_with_weasyprint_libraries():
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "USER cvengine" in text and "libharfbuzz-subset0" in text and "libpango-1.0-0" in text
    assert text.count("FROM ") >= 2  # multi-stage
    for role in ("web", "worker", "beat", "ai", "migrate"):
        assert f"  {role})" in (ROOT / "deploy" / "entrypoint.sh").read_text()
