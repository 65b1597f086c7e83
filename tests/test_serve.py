"""The speech server (`latentlm-tts serve`) on loopback with a tiny model, driven by the official
openai client and by raw HTTP: audio, streaming, voices, errors, auth, limits, metrics."""

import io
import queue
import socket
import threading
import time

import httpx
import numpy as np
import openai
import pytest
import soundfile as sf
import uvicorn
from conftest import tone
from tiny_model import make_tiny_checkpoint

from tts.api import TTS
from tts.serve.app import ServerConfig, create_app
from tts.serve.scheduler import Done, Failed, Job, Scheduler, Started
from tts.serve.voices import UploadLimits

SR = 24000
KEY = "test-key"
LONG_TEXT = "One two three. Four five six. Seven eight nine. Ten eleven twelve."


@pytest.fixture(scope="module")
def tts(tmp_path_factory):
    return TTS.from_pretrained(make_tiny_checkpoint(tmp_path_factory.mktemp("ckpt")))


@pytest.fixture(scope="module")
def server(tts, tmp_path_factory):
    """(base url, app) of a server on a free loopback port, voice "tone" stored."""
    voices = tmp_path_factory.mktemp("voices")
    sf.write(voices / "tone.wav", tone(2.0, SR), SR)
    config = ServerConfig(voices, api_key=KEY, max_batch=4, max_input_chars=500, upload=UploadLimits(2_000_000, 5.0))
    app = create_app(tts, config)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", app
    srv.should_exit = True
    thread.join(10)


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server[0] + "/v1", api_key=KEY, max_retries=0)


def http(server, key=KEY):
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.Client(base_url=server[0], headers=headers, timeout=60)


def test_openai_client_gets_a_playable_wav_for_a_named_voice(client):
    for voice in ("alloy", "tone"):
        audio = client.audio.speech.create(model="tts-1", voice=voice, input="Hello there.", response_format="wav")
        samples, rate = sf.read(io.BytesIO(audio.content))
        assert rate == SR and len(samples) > SR // 2 and np.abs(samples).max() > 0


def test_streaming_yields_audio_before_generation_ends(client, server):
    scheduler = server[1].state.scheduler
    with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="echo", input=LONG_TEXT, response_format="pcm", extra_body={"stream": True}
    ) as response:
        chunks, running_at_first = [], None
        for chunk in response.iter_bytes():
            if running_at_first is None:
                running_at_first = len(scheduler.jobs)
            chunks.append(chunk)
    assert running_at_first == 1, "the first bytes should arrive while the request is still generating"
    assert len(chunks) > 3 and sum(map(len, chunks)) > SR  # 16-bit pcm: > 0.5 s


def pcm(server, **body):
    r = http(server).post("/v1/audio/speech", json={"model": "latentlm-tts", "response_format": "pcm", **body})
    assert r.status_code == 200, r.text
    return np.frombuffer(r.content, "<i2").astype(np.int32)


def test_batching_does_not_change_the_audio(server, tts):
    """A request's audio alone equals the stream API's (same seed), and equals itself among 7 others."""
    body = {"input": "Hello there. How are you?", "voice": "tone", "seed": 5, "steps": 3}
    alone = pcm(server, **body)
    voice = server[1].state.store.resolve("tone")[0]
    reference = np.concatenate(list(tts.stream(body["input"], voice=voice, seed=5, steps=3)))
    assert len(alone) == len(reference)
    assert np.abs(alone - np.round(np.clip(reference, -1, 1) * 32767)).max() <= 2
    results = {}

    def run(i):
        results[i] = pcm(server, **{**body, "seed": 5 if i == 0 else 100 + i, "input": body["input"] * (1 + i % 3)})

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results[0]) == len(alone) and np.abs(results[0] - alone).max() <= 2


@pytest.mark.parametrize(
    "body,status,param",
    [
        ({"input": ""}, 400, "input"),
        ({"input": "x" * 501}, 400, "input"),
        ({"input": "Hi.", "voice": "nobody"}, 400, "voice"),
        ({"input": "Hi.", "voice": "../etc/passwd"}, 400, "voice"),
        ({"input": "Hi.", "response_format": "xyz"}, 400, "response_format"),
        ({"input": "Hi.", "speed": 9}, 400, "speed"),
        ({"input": "Hi.", "steps": 0}, 400, "steps"),
        ({"input": "Hi.", "model": "other"}, 400, "model"),
        ({"input": 3}, 400, "input"),
        ({}, 400, "input"),
    ],
)
def test_bad_requests_get_a_4xx_in_openai_shape(server, tmp_path, body, status, param):
    r = http(server).post("/v1/audio/speech", json=body)
    assert r.status_code == status
    error = r.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error" and error["message"]
    assert "/tmp" not in error["message"] and str(tmp_path) not in error["message"]


def test_unavailable_format_names_the_available_ones(server):
    error = http(server).post("/v1/audio/speech", json={"input": "Hi.", "response_format": "xyz"}).json()["error"]
    assert "wav" in error["message"] and "pcm" in error["message"] and "flac" in error["message"]


def test_malformed_json_wrong_key_and_full_queue(server, client, monkeypatch):
    r = http(server).post("/v1/audio/speech", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json()["error"]["message"]
    for key in ("wrong", None):
        r = http(server, key).post("/v1/audio/speech", json={"input": "Hi."})
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=server[0] + "/v1", api_key="wrong", max_retries=0).models.list()
    assert [m.id for m in client.models.list()][:2] == ["latentlm-tts", "tts-1"]

    def full(job):
        raise queue.Full

    monkeypatch.setattr(server[1].state.scheduler, "submit", full)
    r = http(server).post("/v1/audio/speech", json={"input": "Hi."})
    assert r.status_code == 429 and r.headers["retry-after"] == "1"


def test_voices_upload_list_use_delete(server, tmp_path):
    c, buf = http(server), io.BytesIO()
    sf.write(buf, tone(2.0, 16000, freq=180.0), 16000, format="WAV")
    r = c.post("/v1/voices", files={"file": ("v.wav", buf.getvalue())}, data={"name": "mine", "text": "a tone"})
    assert r.status_code == 200, r.text
    assert {"object": "voice", "name": "mine", "transcript": True} in c.get("/v1/voices").json()["data"]
    assert len(pcm(server, input="Hello.", voice="mine", seed=1)) > 0
    assert c.delete("/v1/voices/mine").status_code == 200
    assert c.delete("/v1/voices/mine").status_code == 404
    assert c.post("/v1/audio/speech", json={"input": "Hi.", "voice": "mine"}).status_code == 400


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("bad name!", "wav", "voice name"),
        ("corrupt", b"RIFF\x00\x00not audio at all", "not readable audio"),
        ("long", "long", "at most 5 s"),
        ("silent", "silent", "silent"),
    ],
)
def test_bad_uploads_are_refused(server, name, data, message):
    buf = io.BytesIO()
    if isinstance(data, str):
        seconds, amp = {"wav": (2.0, 0.3), "long": (6.0, 0.3), "silent": (2.0, 0.0)}[data]
        sf.write(buf, tone(seconds, SR, amp=amp), SR, format="WAV")
        data = buf.getvalue()
    r = http(server).post("/v1/voices", files={"file": ("v.wav", data)}, data={"name": name})
    assert r.status_code == 400 and message in r.json()["error"]["message"]
    assert "/tmp" not in r.text


def test_disconnect_mid_stream_frees_the_slot_and_health_metrics_answer(server):
    scheduler = server[1].state.scheduler
    with http(server).stream(
        "POST", "/v1/audio/speech", json={"input": LONG_TEXT * 3, "response_format": "wav", "stream": True}
    ) as r:
        assert r.status_code == 200
        next(r.iter_bytes())
    deadline = time.monotonic() + 30
    while scheduler.jobs and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not scheduler.jobs and not scheduler.batches
    assert httpx.get(server[0] + "/health").json()["status"] == "ok"
    text = httpx.get(server[0] + "/metrics").text
    for name in ("latentlm_requests_total", "latentlm_queue_length", "latentlm_batch_size", "latentlm_audio_seconds"):
        assert name in text
    assert 'status="500"' not in text and "latentlm_first_audio_seconds_bucket" in text


def collect(items):
    out = []
    while not out or not isinstance(out[-1], Done | Failed):
        out.append(items.get(timeout=60))
    return out


def test_scheduler_timeout_and_cancel_leave_no_slot(tts):
    scheduler = Scheduler(tts, max_batch=2, max_queue=2)
    scheduler.start()
    try:
        late, cancelled = queue.Queue(), queue.Queue()
        scheduler.submit(Job(LONG_TEXT, None, 1.0, 2, 0, 1.0, late.put, timeout=0.0))
        assert isinstance(collect(late)[-1], Failed) and collect_status(late) is None
        job = Job(LONG_TEXT * 4, None, 1.0, 2, 0, 1.0, cancelled.put)
        scheduler.submit(job)
        assert isinstance(cancelled.get(timeout=60), Started)
        cancelled.get(timeout=60)  # some audio
        job.cancel()
        deadline = time.monotonic() + 30
        while scheduler.jobs and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not scheduler.jobs and not scheduler.batches
    finally:
        scheduler.stop()


def collect_status(items):
    return None if items.empty() else items.get()
