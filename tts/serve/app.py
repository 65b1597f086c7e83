"""The OpenAI-compatible speech server (FastAPI): `create_app(tts, config)`.

    POST   /v1/audio/speech   {model, input, voice, response_format, speed, stream,
                               + seed, guidance_scale, steps, voice_text}  -> audio
    GET    /v1/voices         POST /v1/voices (multipart: file, name, optional text)
    DELETE /v1/voices/NAME    GET /v1/models    GET /health    GET /metrics (Prometheus text)

Requests follow the OpenAI audio API. `model` is ours ("latentlm-tts") or one of OpenAI's TTS
model names; `voice` a stored voice or an OpenAI voice name (`tts.serve.voices`); `speed`
(0.25-4.0) is clamped to the model's MIN_SPEED-MAX_SPEED (`tts.synthesis`) and divides the
speaking rate; `stream: true` sends the audio as it is generated (chunked transfer; wav and pcm
grow frame by frame, other formats come whole at the end). Every error is JSON in OpenAI's shape
{"error": {"message", "type", "param", "code"}} and never names a server path. With an API key,
/v1/* needs `Authorization: Bearer KEY` (else 401); /health and /metrics stay open. A full
queue is a 429 with Retry-After. Generation runs in the `tts.serve.scheduler.Scheduler` thread.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import queue
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException

from latentlm_common.errors import InputError
from tts.serve.formats import CONTENT_TYPES, STREAMABLE, available_formats, encode, pcm16, stream_header
from tts.serve.scheduler import Done, Failed, Job, Scheduler, Started
from tts.serve.voices import UploadLimits, VoiceStore
from tts.synthesis import MAX_SPEED, MIN_SPEED, Synthesizer, prompt_audio

log = logging.getLogger(__name__)

MODEL = "latentlm-tts"
MODELS = [MODEL, "tts-1", "tts-1-hd", "gpt-4o-mini-tts"]
OPENAI_SPEED_RANGE = (0.25, 4.0)


@dataclass(frozen=True)
class ServerConfig:
    voices: Path
    api_key: str | None = None
    max_batch: int = 16
    max_queue: int = 64
    max_input_chars: int = 4096
    timeout: float = 300.0  # seconds from submission to the last audio
    upload: UploadLimits = UploadLimits()


class SpeechBody(BaseModel):
    model: str = MODEL
    input: str
    voice: str | dict | None = None
    response_format: str | None = None
    speed: float = 1.0
    stream: bool = False
    seed: int | None = None
    guidance_scale: float | None = None
    steps: int | None = None
    voice_text: str | None = None


class ApiError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None, headers=None):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.headers = status, message, param, code, headers


def error_response(status: int, message: str, param=None, code=None, headers=None) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


class Metrics:
    def __init__(self, scheduler: Scheduler):
        self.registry = r = CollectorRegistry()
        self.requests = Counter("latentlm_requests", "HTTP requests", ["endpoint", "status"], registry=r)
        Gauge("latentlm_queue_length", "requests waiting", registry=r).set_function(scheduler.queue.qsize)
        Gauge("latentlm_running_requests", "requests generating", registry=r).set_function(lambda: len(scheduler.jobs))
        self.batch = Gauge("latentlm_batch_size", "sequences in the last generated frame", registry=r)
        self.audio = Counter("latentlm_audio_seconds", "seconds of audio generated", registry=r)
        buckets = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128)
        self.first = Histogram("latentlm_first_audio_seconds", "time to the first audio", registry=r, buckets=buckets)
        self.latency = Histogram("latentlm_request_seconds", "time to the whole audio", registry=r, buckets=buckets)
        scheduler.stats.on_audio, scheduler.stats.on_batch = self.audio.inc, self.batch.set


class CountRequests:
    """ASGI middleware: count every HTTP response by route and status (streams included)."""

    def __init__(self, app, counter: Counter):
        self.app, self.counter = app, counter

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = [500]

        async def send_status(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.counter.labels(getattr(scope.get("route"), "path", "other"), str(status[0])).inc()


def create_app(tts: Synthesizer, config: ServerConfig) -> FastAPI:
    scheduler = Scheduler(tts, config.max_batch, config.max_queue)
    store = VoiceStore(config.voices, config.upload)
    metrics = Metrics(scheduler)
    app = FastAPI(title="LatentLM-TTS speech server", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.scheduler, app.state.store, app.state.tts = scheduler, store, tts
    app.router.on_startup.append(scheduler.start)
    app.router.on_shutdown.append(scheduler.stop)
    _add_error_handlers(app)

    app.add_middleware(CountRequests, counter=metrics.requests)

    @app.get("/health")
    async def health():
        alive = scheduler.alive
        body = {"status": "ok" if alive else "down", "running": len(scheduler.jobs), "queued": scheduler.queue.qsize()}
        return JSONResponse(body, status_code=200 if alive else 503)

    @app.get("/metrics")
    async def prometheus():
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(_v1(tts, config, scheduler, store, metrics), prefix="/v1")
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request, e: ApiError):
        return error_response(e.status, e.message, e.param, e.code, e.headers)

    @app.exception_handler(HTTPException)
    async def http_error(request, e: HTTPException):
        return error_response(e.status_code, str(e.detail), headers=getattr(e, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request, e: RequestValidationError):
        return error_response(400, "invalid request")

    @app.exception_handler(Exception)
    async def internal_error(request, e: Exception):
        log.exception("request failed")
        return error_response(500, "internal server error", code="server_error")


def _v1(tts, config: ServerConfig, scheduler: Scheduler, store: VoiceStore, metrics: Metrics) -> APIRouter:
    async def auth(request: Request) -> None:
        if config.api_key is None:
            return
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {config.api_key}".encode()):
            raise ApiError(401, "invalid or missing API key", code="invalid_api_key")

    router = APIRouter(dependencies=[Depends(auth)])

    @router.get("/models")
    async def models():
        return {"object": "list", "data": [{"id": m, "object": "model", "owned_by": "latentlm-tts"} for m in MODELS]}

    @router.get("/voices")
    async def voices():
        return {"object": "list", "data": store.names()}

    @router.post("/voices")
    async def upload(request: Request):
        name, data, text = await _upload_form(request, config.upload.max_bytes)

        def check(samples, rate):
            x = soxr.resample(samples, rate, tts.sample_rate) if rate != tts.sample_rate else samples
            prompt_audio(x, tts.sample_rate, tts.target_dbfs, text is not None, tts.settings)

        try:
            await asyncio.to_thread(store.add, name, data, text, check)
        except InputError as e:
            raise ApiError(400, str(e), "file") from None
        return {"object": "voice", "name": name, "transcript": bool(text and text.strip())}

    @router.delete("/voices/{name}")
    async def remove(name: str):
        try:
            store.remove(name)
        except InputError as e:
            raise ApiError(400, str(e), "name") from None
        except LookupError as e:
            raise ApiError(404, e.args[0], "name", "voice_not_found") from None
        return {"object": "voice", "name": name, "deleted": True}

    @router.post("/audio/speech")
    async def speech(request: Request):
        body = _parse(await request.body(), SpeechBody)
        fmt, job = _job(body, tts, config, store)
        return await _respond(request, job, fmt, body.stream, tts.sample_rate, scheduler, metrics)

    return router


def _parse(raw: bytes, model: type[BaseModel]) -> BaseModel:
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        param = ".".join(str(p) for p in first["loc"]) or None
        raise ApiError(400, f"{param}: {first['msg']}", param) from None


async def _upload_form(request: Request, max_bytes: int) -> tuple[str, bytes, str | None]:
    if int(request.headers.get("content-length") or 0) > max_bytes + 64 * 1024:
        raise ApiError(413, f"the upload is larger than {max_bytes // (1024 * 1024)} MB", "file")
    try:
        form = await request.form(max_files=1, max_fields=8)
    except Exception:  # malformed multipart bodies raise several kinds of errors
        raise ApiError(400, "expected a multipart form with 'file' and 'name'") from None
    name, file, text = form.get("name"), form.get("file"), form.get("text")
    if not isinstance(name, str) or file is None or isinstance(file, str):
        raise ApiError(400, "expected a multipart form with 'file' and 'name'")
    data = await file.read(max_bytes + 1)
    return name, data, text if isinstance(text, str) else None


def _job(body: SpeechBody, tts, config: ServerConfig, store: VoiceStore) -> tuple[str, Job]:
    """The checked request as a Job (without its delivery) and its response format."""
    if body.model not in MODELS:
        raise ApiError(400, f"unknown model {body.model!r}; this server has {', '.join(MODELS)}", "model")
    text = body.input
    if not text.strip():
        raise ApiError(400, "input is empty", "input")
    if len(text) > config.max_input_chars:
        raise ApiError(400, f"input is {len(text)} characters; at most {config.max_input_chars}", "input")
    formats = available_formats()
    fmt = body.response_format or ("mp3" if "mp3" in formats else "wav")
    if fmt not in formats:
        raise ApiError(
            400, f"response_format {fmt!r} is not available; available: {', '.join(formats)}", "response_format"
        )
    if not OPENAI_SPEED_RANGE[0] <= body.speed <= OPENAI_SPEED_RANGE[1]:
        raise ApiError(400, f"speed must be from {OPENAI_SPEED_RANGE[0]} to {OPENAI_SPEED_RANGE[1]}", "speed")
    try:
        scale, steps = tts.resolve_settings(body.guidance_scale, body.steps)
    except InputError as e:
        raise ApiError(400, str(e), "guidance_scale" if "guidance" in str(e) else "steps") from None
    speed = min(max(body.speed, MIN_SPEED), MAX_SPEED)
    voice = _voice(body, store)
    seed = body.seed if body.seed is not None else random.SystemRandom().randrange(2**31)
    return fmt, Job(text, voice, scale, steps, seed, speed, deliver=lambda item: None, timeout=config.timeout)


def _voice(body: SpeechBody, store: VoiceStore):
    name = body.voice.get("id") if isinstance(body.voice, dict) else body.voice
    if name is None:
        return None
    if body.voice_text is not None and len(body.voice_text) > 1000:
        raise ApiError(400, "voice_text is longer than 1000 characters", "voice_text")
    try:
        path, text = store.resolve(str(name))
    except InputError as e:
        raise ApiError(400, str(e), "voice") from None
    except LookupError as e:
        raise ApiError(400, e.args[0], "voice", "voice_not_found") from None
    return path, body.voice_text if body.voice_text is not None else text


async def _respond(request, job: Job, fmt: str, stream: bool, rate: int, scheduler: Scheduler, metrics: Metrics):
    loop, items = asyncio.get_running_loop(), asyncio.Queue()
    job.deliver = lambda item: loop.call_soon_threadsafe(items.put_nowait, item)
    start = time.monotonic()
    try:
        scheduler.submit(job)
    except queue.Full:
        raise ApiError(
            429, "the server is busy; retry shortly", code="rate_limit_exceeded", headers={"Retry-After": "1"}
        ) from None
    first = await _next(request, items, job)
    if isinstance(first, Failed):
        return error_response(first.status, first.message, code=first.code)
    audio = _audio(request, items, job, start, metrics)
    if stream:
        return StreamingResponse(_stream(audio, fmt, rate), media_type=CONTENT_TYPES[fmt])
    parts = []
    async for piece in audio:
        if isinstance(piece, Failed):
            return error_response(piece.status, piece.message, code=piece.code)
        parts.append(piece)
    data = await asyncio.to_thread(encode, _concat(parts), rate, fmt)
    return Response(data, media_type=CONTENT_TYPES[fmt])


async def _next(request, items: asyncio.Queue, job: Job):
    """The job's next delivery; None (and the job cancelled) when the client has gone."""
    while True:
        try:
            return await asyncio.wait_for(items.get(), 1.0)
        except asyncio.TimeoutError:
            if await request.is_disconnected():
                job.cancel()
                return Failed(499, "client closed the request")


async def _audio(request, items, job: Job, start: float, metrics: Metrics):
    """The job's sample arrays, then a Failed if it failed; cancels the job if abandoned."""
    first = True
    try:
        while True:
            item = await _next(request, items, job)
            if isinstance(item, Done):
                metrics.latency.observe(time.monotonic() - start)
                return
            if isinstance(item, Failed):
                yield item
                return
            if first and not isinstance(item, Started):
                metrics.first.observe(time.monotonic() - start)
                first = False
            yield item
    finally:
        job.cancel()  # no effect once done; frees the slot of an abandoned request


async def _stream(audio, fmt: str, rate: int):
    header = stream_header(fmt, rate) if fmt in STREAMABLE else b""
    if header:
        yield header
    parts = []
    async for piece in audio:
        if isinstance(piece, Failed):
            return  # headers are sent: the stream just ends early
        if fmt in STREAMABLE:
            yield pcm16(piece)
        else:
            parts.append(piece)
    if parts:
        yield await asyncio.to_thread(encode, _concat(parts), rate, fmt)


def _concat(parts):
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)
