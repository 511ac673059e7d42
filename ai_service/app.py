"""The AI service: the extraction library over HTTP (api.md §6). ``uvicorn ai_service.app:app``.

Every ``/api/v1/*`` route needs ``Authorization: Bearer <AI_SERVICE_TOKEN>`` (constant-time comparison). Paths
answer with and without a trailing slash, without redirects. No CORS. Docs only with ``AI_DOCS_ENABLED``. Work
runs in a bounded worker pool, never on the request thread; tasks, results, photos and files live in memory or
a private temporary directory and are deleted after ``AI_RESULT_TTL_SECONDS``. Configuration comes from the
environment (ai_service/config.py); an unsafe or incomplete one stops the start-up with a clear message.
"""

import asyncio
import json
import logging
import multiprocessing
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ai_service import jobs
from ai_service.config import ConfigError, ServiceConfig
from ai_service.fetch import BodyTooLarge, UrlRejected, fetch_to_file
from ai_service.store import TaskStore
from core.extraction.errors import EMPTY_FILE, ExtractionError
from core.extraction.filetypes import sniff
from core.extraction.schema import CVDataInput

logger = logging.getLogger("ai_service")
REQUEST_OVERHEAD_BYTES = 1024 * 1024  # multipart boundaries and form fields around a maximal file
CHUNK = 64 * 1024


# --- request models --------------------------------------------------------------------------------------------


def _listify(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


StrList = Annotated[
    list[Annotated[str, Field(max_length=200)]], BeforeValidator(_listify), Field(max_length=50)
]


class AdditionalInfo(BaseModel):
    """Batch hints (api.md §6): context for the analysis, never facts about the candidate."""

    model_config = ConfigDict(extra="ignore")

    experience: float | Annotated[str, Field(max_length=50)] | None = None
    skills: StrList = []
    job_role: StrList = []
    current_location: Annotated[str, Field(max_length=255)] | None = None

    def hints(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if v not in (None, "", [])}


class RegenerationJSON(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int | None = None  # accepted for compatibility, ignored
    cv_url: str = Field(max_length=4096)
    additional_info: AdditionalInfo | None = None


class RewriteRequest(BaseModel):
    cv_data: CVDataInput
    instruction: Annotated[str, Field(max_length=1000)] | None = None


# --- errors and auth -------------------------------------------------------------------------------------------


def _invalid(loc: tuple[str, ...], message: str, kind: str = "value_error") -> RequestValidationError:
    return RequestValidationError([{"type": kind, "loc": loc, "msg": message, "input": None}])


def _reraise_validation(exc: ValidationError, prefix: tuple[str, ...]) -> RequestValidationError:
    errors = [
        {**error, "loc": (*prefix, *error["loc"])}
        for error in exc.errors(include_url=False, include_input=False)
    ]
    for error in errors:
        error.pop("ctx", None)
    return RequestValidationError(errors)


def require_service(request: Request) -> None:
    """Bearer token, compared in constant time; anything else → 401 ``Not authenticated``."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    expected = request.app.state.config.token.encode()
    if not (scheme.lower() == "bearer" and secrets.compare_digest(token.strip().encode(), expected)):
        raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})


class BodyLimit:
    """413 for API request bodies above the cap, counted as they stream (Content-Length is not trusted)."""

    class Exceeded(Exception):
        pass

    def __init__(self, app: ASGIApp, max_bytes: Callable[[], int]):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes()
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyLimit.Exceeded()
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyLimit.Exceeded:
            if not started:
                await _too_large(send)


async def _too_large(send: Send) -> None:
    response = JSONResponse({"detail": "The request body is larger than 10 MB."}, status_code=413)
    await response({"type": "http"}, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


# --- the application -------------------------------------------------------------------------------------------


def create_app(config: ServiceConfig | None = None) -> FastAPI:
    """The ASGI app. ``config`` defaults to the environment, read (and validated) when the app starts."""
    config_error: ConfigError | None = None
    if config is None:
        try:
            config = ServiceConfig.from_env()
        except ConfigError as exc:
            config_error = exc
    docs = bool(config and config.docs_enabled)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if config_error is not None or config is None:
            raise RuntimeError(f"AI service configuration error: {config_error}")
        _configure_logging()
        workdir = Path(tempfile.mkdtemp(prefix="cvengine-ai-"))
        os.chmod(workdir, 0o700)
        app.state.workdir = workdir
        app.state.store = TaskStore(config.result_ttl_seconds)
        app.state.executor = _executor(config)
        app.state.settings = jobs.JobSettings(provider=config.provider, llm=config.llm, ocr=config.ocr)
        purger = asyncio.create_task(_purge_forever(app.state.store, config.result_ttl_seconds))
        logger.info("AI service %s started (provider=%s)", config.service_name, config.provider)
        try:
            yield
        finally:
            purger.cancel()
            app.state.executor.shutdown(wait=False, cancel_futures=True)
            app.state.store.clear()
            shutil.rmtree(workdir, ignore_errors=True)

    app = FastAPI(
        title="CV Engine AI service",
        version="1",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        redirect_slashes=False,
    )
    app.state.config = config
    app.add_middleware(BodyLimit, max_bytes=lambda: app.state.config.max_cv_bytes + REQUEST_OVERHEAD_BYTES)

    public = APIRouter(redirect_slashes=False)
    _route(public, "/health", health, ["GET"])
    api = APIRouter(prefix="/api/v1", dependencies=[Depends(require_service)], redirect_slashes=False)
    _route(api, "/regeneration", regeneration, ["POST"], status_code=202, openapi_extra=_REGENERATION_DOC)
    _route(api, "/rewrite", rewrite, ["POST"], status_code=202)
    _route(api, "/tasks/{task_id}", task_status, ["GET"])
    _route(api, "/tasks/{task_id}/photo", task_photo, ["GET"], response_class=Response)
    app.include_router(public)
    app.include_router(api)
    return app


def _route(router: APIRouter, path: str, endpoint: Callable, methods: list[str], **options: Any) -> None:
    """The path with and without a trailing slash, both answering directly (no redirect)."""
    router.add_api_route(path, endpoint, methods=methods, **options)
    router.add_api_route(path + "/", endpoint, methods=methods, include_in_schema=False, **options)


def _configure_logging() -> None:
    """Our loggers (and the extraction library's) at LOG_LEVEL on stderr, unless the host configured logging.

    Messages carry task ids, types, durations and codes only: never CV text, names, e-mail addresses or phones.
    """
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    for name in ("ai_service", "core"):
        logging.getLogger(name).setLevel(level if level in logging.getLevelNamesMapping() else "INFO")


def _executor(config: ServiceConfig) -> Executor:
    if config.executor == "thread":
        return ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="ai-job")
    # forkserver: workers start from a clean single-threaded process, so the extraction library can fork its
    # isolated children safely (never fork a threaded server).
    return ProcessPoolExecutor(
        max_workers=config.workers,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=_configure_logging,
    )


async def _purge_forever(store: TaskStore, ttl: float) -> None:
    while True:
        await asyncio.sleep(min(60.0, max(ttl / 2, 0.5)))
        removed = store.purge()
        if removed:
            logger.info("Purged %d expired task(s)", removed)


# --- endpoints -------------------------------------------------------------------------------------------------


async def health(request: Request) -> dict[str, str]:
    return {"status": "healthy", "service": request.app.state.config.service_name}


async def regeneration(request: Request) -> dict[str, str]:
    """Queue a CV analysis from a multipart ``file`` or a JSON ``cv_url`` (exactly one of them)."""
    config: ServiceConfig = request.app.state.config
    _check_capacity(request)  # before receiving anything; checked again once the CV is here
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    path = request.app.state.workdir / f"{secrets.token_hex(16)}.cv"
    try:
        if content_type == "multipart/form-data":
            hints = await _receive_multipart(request, path, config)
        elif content_type == "application/json":
            hints = await _receive_json(request, path, config)
        else:
            raise HTTPException(
                415, "Send JSON with cv_url, or multipart/form-data with file and additional_info."
            )
        try:
            await run_in_threadpool(sniff, path)
        except ExtractionError as exc:
            if exc.code == EMPTY_FILE:
                raise _invalid(("body", "file"), exc.message)
            raise HTTPException(415, exc.message)
        _check_capacity(request)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    base = str(request.base_url).rstrip("/")
    task = _submit(request, "regeneration", jobs.regenerate, str(path), hints, path=path, photo_base=base)
    return {
        "status": "processing",
        "task_id": task,
        "message": "CV queued for regeneration. Poll /tasks/{task_id} for results.",
    }


async def _receive_multipart(request: Request, path: Path, config: ServiceConfig) -> dict[str, Any]:
    async with request.form(max_files=1, max_fields=10, max_part_size=64 * 1024) as form:
        upload = form.get("file")
        if form.get("cv_url") is not None:
            raise _invalid(("body",), "Send exactly one of file or cv_url.")
        if not isinstance(upload, UploadFile):
            raise _invalid(("body", "file"), "Field required.", "missing")
        size = 0
        with path.open("wb") as out:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > config.max_cv_bytes:
                    raise HTTPException(413, "The CV is larger than 10 MB.")
                out.write(chunk)
        return _hints(form.get("additional_info"))


def _hints(raw: Any) -> dict[str, Any]:
    if raw is None or raw == "":
        return {}
    if not isinstance(raw, str):
        raise _invalid(("body", "additional_info"), "additional_info must be a JSON object string.")
    try:
        value = json.loads(raw)
    except ValueError:
        raise _invalid(("body", "additional_info"), "additional_info is not valid JSON.", "json_invalid")
    if not isinstance(value, dict):
        raise _invalid(("body", "additional_info"), "additional_info must be a JSON object.")
    try:
        return AdditionalInfo.model_validate(value).hints()
    except ValidationError as exc:
        raise _reraise_validation(exc, ("body", "additional_info"))


async def _receive_json(request: Request, path: Path, config: ServiceConfig) -> dict[str, Any]:
    try:
        data = json.loads(await request.body())
    except ValueError:
        raise _invalid(("body",), "The body is not valid JSON.", "json_invalid")
    if isinstance(data, dict) and data.get("file") is not None:
        raise _invalid(("body",), "Send exactly one of file or cv_url.")
    try:
        body = RegenerationJSON.model_validate(data)
    except ValidationError as exc:
        raise _reraise_validation(exc, ("body",))
    try:
        await fetch_to_file(
            body.cv_url,
            path,
            allowed_hosts=config.fetch_allowed_hosts,
            max_bytes=config.max_cv_bytes,
            timeout=config.fetch_timeout_seconds,
        )
    except UrlRejected as exc:
        raise _invalid(("body", "cv_url"), str(exc))
    except BodyTooLarge:
        raise HTTPException(413, "The CV is larger than 10 MB.")
    return body.additional_info.hints() if body.additional_info else {}


async def rewrite(request: Request, body: Annotated[RewriteRequest, Body()]) -> dict[str, str]:
    """Queue a rewrite of client-facing CV content."""
    _check_capacity(request)
    task = _submit(request, "rewrite", jobs.rewrite, body.cv_data.model_dump(), body.instruction)
    return {
        "status": "processing",
        "task_id": task,
        "message": "CV rewrite queued. Poll /tasks/{task_id} for results.",
    }


async def task_status(request: Request, task_id: str) -> dict[str, Any]:
    """Always 200: completed/failed with the result or reason, else PENDING/STARTED (unknown ids: PENDING)."""
    task = request.app.state.store.get(task_id)
    return task.public_status() if task else {"status": "PENDING"}


async def task_photo(request: Request, task_id: str) -> Response:
    task = request.app.state.store.get(task_id)
    if task is None or task.photo is None:
        raise HTTPException(404, "Not found")
    return Response(task.photo, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


def _check_capacity(request: Request) -> None:
    if request.app.state.store.unfinished() >= request.app.state.config.max_pending:
        raise HTTPException(503, "The AI service is busy; try again later.", headers={"Retry-After": "30"})


def _submit(
    request: Request,
    kind: str,
    func: Callable,
    *args: Any,
    path: Path | None = None,
    photo_base: str | None = None,
) -> str:
    store: TaskStore = request.app.state.store
    task = store.create(kind, input_path=path)
    try:
        future = request.app.state.executor.submit(func, *args, request.app.state.settings)
    except BrokenExecutor:  # a worker process died (e.g. killed for memory): start a fresh pool once
        logger.warning("AI worker pool was broken; starting a new one")
        request.app.state.executor = _executor(request.app.state.config)
        future = request.app.state.executor.submit(func, *args, request.app.state.settings)
    task.future = future

    def finished(done: Future) -> None:
        try:
            outcome = done.result()
        except jobs.JobFailed as exc:
            store.fail(task.id, str(exc))
            return
        except BaseException as exc:  # a crashed worker, a cancelled job or a bug: never leave it pending
            logger.error("%s task %s failed: %s", kind, task.id, type(exc).__name__)
            store.fail(task.id, f"ai_unavailable: the {kind} failed unexpectedly ({type(exc).__name__}).")
            return
        if kind == "regeneration":
            result, photo = outcome["result"], outcome["photo"]
            result["extracted_photo_url"] = f"{photo_base}/api/v1/tasks/{task.id}/photo" if photo else None
            store.complete(task.id, result, photo)
        else:
            store.complete(task.id, outcome)

    future.add_done_callback(finished)
    logger.info("%s task %s queued", kind, task.id)
    return task.id


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON schema with its ``$defs`` references inlined (for an OpenAPI request body)."""
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)


_REGENERATION_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _inline_refs(RegenerationJSON.model_json_schema())},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "additional_info": {"type": "string", "description": "JSON object of batch hints"},
                    },
                }
            },
        },
    }
}

app = create_app()  # configuration errors surface when the server starts, not at import
