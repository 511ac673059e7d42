"""Configuration of the AI service, from environment variables only (the service imports no Django).

| variable | default | meaning |
|---|---|---|
| ``AI_SERVICE_TOKEN`` | — (required, ≥ 16 characters) | bearer token every ``/api/v1/*`` call must present |
| ``AI_SERVICE_NAME`` | ``cvengine-ai`` | name reported by ``/health`` |
| ``AI_SERVICE_PROVIDER`` | ``offline`` | ``offline`` or ``llm``: how this service analyses (its own setting) |
| ``OPENAI_BASE_URL``, ``OPENAI_API_KEY``, ``AI_MODEL`` | | the LLM server (``AI_SERVICE_PROVIDER=llm``) |
| ``AI_STRUCTURED_MODE``, ``AI_TIMEOUT_SECONDS``, ``AI_MAX_OUTPUT_TOKENS``, ``AI_RATE_LIMIT``, ``AI_MAX_CONCURRENCY`` | as the backend | LLM limits |
| ``AI_FALLBACK_TO_OFFLINE`` | ``false`` | permanent LLM failure → offline result with ``offline_fallback`` |
| ``AI_FETCH_ALLOWED_HOSTS`` | the ``STORAGE_ENDPOINT`` host:port | comma-separated ``host:port`` entries a ``cv_url`` may point at |
| ``AI_RESULT_TTL_SECONDS`` | ``3600`` | results, files and photos are deleted this long after the task ends |
| ``AI_DOCS_ENABLED`` | ``false`` | serve ``/docs``, ``/redoc`` and ``/openapi.json`` |
| ``AI_SERVICE_WORKERS`` | ``2`` | worker processes analysing CVs (off the request thread) |
| ``AI_SERVICE_MAX_PENDING`` | ``100`` | unfinished tasks accepted before answering 503 |
| ``AI_SERVICE_EXECUTOR`` | ``process`` | ``process`` (isolated worker processes) or ``thread`` |
| ``OCR_ENABLED`` | ``true`` | OCR scanned PDFs when the tesseract binary is installed |
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.extraction.llm import STRUCTURED_MODES, LLMConfig

MiB = 1024 * 1024
MAX_CV_BYTES = 10 * MiB  # api.md §6: cv_url bodies and uploads above this → 413
FETCH_TIMEOUT_SECONDS = 30.0
MIN_TOKEN_LENGTH = 16


class ConfigError(ValueError):
    """The environment does not describe a safe, complete AI service."""


@dataclass(frozen=True)
class ServiceConfig:
    token: str
    service_name: str = "cvengine-ai"
    provider: str = "offline"
    llm: LLMConfig | None = None
    docs_enabled: bool = False
    fetch_allowed_hosts: tuple[str, ...] = ()
    result_ttl_seconds: float = 3600.0
    workers: int = 2
    max_pending: int = 100
    executor: str = "process"
    ocr: bool = True
    max_cv_bytes: int = MAX_CV_BYTES
    fetch_timeout_seconds: float = FETCH_TIMEOUT_SECONDS

    def __post_init__(self) -> None:
        if len(self.token or "") < MIN_TOKEN_LENGTH:
            raise ConfigError(
                f"AI_SERVICE_TOKEN must be set to a secret of at least {MIN_TOKEN_LENGTH} characters."
            )
        if self.provider not in ("offline", "llm"):
            raise ConfigError("AI_SERVICE_PROVIDER must be offline or llm.")
        if self.provider == "llm" and self.llm is None:
            raise ConfigError("AI_SERVICE_PROVIDER=llm needs OPENAI_BASE_URL and AI_MODEL.")
        if self.executor not in ("process", "thread"):
            raise ConfigError("AI_SERVICE_EXECUTOR must be process or thread.")
        if self.workers < 1 or self.max_pending < 1 or self.result_ttl_seconds <= 0:
            raise ConfigError(
                "AI_SERVICE_WORKERS, AI_SERVICE_MAX_PENDING and AI_RESULT_TTL_SECONDS must be positive."
            )
        for entry in self.fetch_allowed_hosts:
            if normalise_host_entry(entry) != entry:
                raise ConfigError(f"AI_FETCH_ALLOWED_HOSTS entry {entry!r} must be a lower-case host:port.")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ServiceConfig":
        env = _Env(os.environ if environ is None else environ)
        provider = env.str("AI_SERVICE_PROVIDER", "offline").lower()
        llm = (
            _llm_config(env)
            if provider == "llm" and env.str("OPENAI_BASE_URL") and env.str("AI_MODEL")
            else None
        )
        allowed = env.str("AI_FETCH_ALLOWED_HOSTS")
        if allowed:
            hosts = tuple(normalise_host_entry(h) for h in allowed.split(",") if h.strip())
        else:
            endpoint = env.str("STORAGE_ENDPOINT")
            hosts = (url_host_entry(endpoint),) if endpoint else ()
        return cls(
            token=env.str("AI_SERVICE_TOKEN"),
            service_name=env.str("AI_SERVICE_NAME", "cvengine-ai"),
            provider=provider,
            llm=llm,
            docs_enabled=env.bool("AI_DOCS_ENABLED", False),
            fetch_allowed_hosts=hosts,
            result_ttl_seconds=env.float("AI_RESULT_TTL_SECONDS", 3600.0),
            workers=env.int("AI_SERVICE_WORKERS", 2),
            max_pending=env.int("AI_SERVICE_MAX_PENDING", 100),
            executor=env.str("AI_SERVICE_EXECUTOR", "process").lower(),
            ocr=env.bool("OCR_ENABLED", True),
        )


def _llm_config(env: "_Env") -> LLMConfig:
    mode = env.str("AI_STRUCTURED_MODE", "json_schema")
    if mode not in STRUCTURED_MODES:
        raise ConfigError("AI_STRUCTURED_MODE must be json_schema, json_object or prompt.")
    try:
        return LLMConfig(
            base_url=env.str("OPENAI_BASE_URL"),
            model=env.str("AI_MODEL"),
            api_key=env.str("OPENAI_API_KEY", "not-needed"),
            structured_mode=mode,
            timeout_seconds=env.float("AI_TIMEOUT_SECONDS", 120.0),
            max_output_tokens=env.int("AI_MAX_OUTPUT_TOKENS", 4000),
            rate_limit_per_minute=env.int("AI_RATE_LIMIT", 20),
            max_concurrency=env.int("AI_MAX_CONCURRENCY", 4),
            budget_seconds=600.0,
            fallback_to_offline=env.bool("AI_FALLBACK_TO_OFFLINE", False),
        )
    except ValueError as exc:
        raise ConfigError(str(exc))


def _host(hostname: str) -> str:
    return f"[{hostname}]" if ":" in hostname else hostname


def url_host_entry(url: str) -> str:
    """``host:port`` of an http(s) URL, the port made explicit (80/443 by scheme)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{url!r} is not an http(s) URL.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{_host(parts.hostname.lower())}:{port}"


def normalise_host_entry(entry: str) -> str:
    entry = entry.strip().lower()
    parts = urlsplit(f"//{entry}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None or parts.username or parts.password or parts.path:
        raise ConfigError(f"AI_FETCH_ALLOWED_HOSTS entry {entry!r} must be host:port.")
    return f"{_host(parts.hostname)}:{port}"


class _Env:
    def __init__(self, environ: Mapping[str, str]):
        self.environ = environ

    def str(self, name: str, default: str = "") -> str:
        return (self.environ.get(name) or default).strip()

    def bool(self, name: str, default: bool) -> bool:
        value = self.str(name)
        if not value:
            return default
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name} must be true or false.")

    def int(self, name: str, default: int) -> int:
        try:
            return int(self.str(name) or default)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number.")

    def float(self, name: str, default: float) -> float:
        try:
            return float(self.str(name) or default)
        except ValueError:
            raise ConfigError(f"{name} must be a number.")
