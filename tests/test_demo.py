"""The Gradio demo on a live localhost server: through gradio_client and through a real browser."""

import os
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import tone
from tiny_model import make_tiny_checkpoint

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
SR = 24000
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("LATENTLM_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "artifacts"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from demo.app import Limits, launch
    from tts.api import TTS

    # the stop head fires at once: one frame per utterance keeps the tests fast
    tts = TTS.from_pretrained(make_tiny_checkpoint(tmp_path_factory.mktemp("ckpt"), stop_bias=50.0))
    port = free_port()
    app = launch(tts, port=port, block=False, limits=Limits(max_chars=200), defaults={"steps": 2})
    yield f"http://127.0.0.1:{port}/"
    app.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("uploads")
    sf.write(d / "voice.wav", tone(2.0, SR), SR)
    sf.write(d / "silent.wav", np.zeros(2 * SR, np.float32), SR)
    (d / "notes.wav").write_text("this is not audio")
    return d


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)


def synth(client, text, voice):
    from gradio_client import handle_file

    return client.predict(text, handle_file(str(voice)), "", 2.0, 2, 0, 1.0, api_name="/synthesize")


def test_client_synthesizes_with_an_uploaded_prompt(client, files):
    audio_path, image_path = synth(client, "Hello there.", files / "voice.wav")
    x, sr = sf.read(audio_path)
    assert sr == SR and len(x) > 0 and len(x) % 1600 == 0 and np.abs(x).max() > 0  # whole 1/15 s frames
    assert Path(image_path).stat().st_size > 0


@pytest.mark.parametrize(
    "text, voice, message",
    [
        ("", "voice.wav", "enter some text"),
        ("x" * 201, "voice.wav", "limit here is 200"),
        ("Hello.", "silent.wav", "silent"),
        ("Hello.", "notes.wav", "cannot read this file as audio"),
    ],
)
def test_bad_inputs_are_reported_and_the_server_keeps_serving(client, files, text, voice, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message):
        synth(client, text, files / voice)
    audio_path, _ = synth(client, "Still here.", files / "voice.wav")
    assert sf.info(audio_path).frames > 0


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("LATENTLM_REQUIRE_BROWSER"):
            pytest.fail(f"no Chromium at {CHROMIUM}; install Debian's chromium package")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


def wait_until_result_plays(page, timeout_s: float):
    """Gradio's player keeps its <audio> in a shadow root; Playwright's locators pierce it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(a.evaluate("a => !!a.src && a.duration > 0") for a in page.locator("#result audio").all()):
            return
        page.wait_for_timeout(500)
    raise AssertionError("the result audio never got a playable source")


def upload_voice(page, voice):
    page.locator("#voice input[type=file]").set_input_files(str(voice))
    page.locator("#voice audio").first.wait_for(state="attached", timeout=30_000)


def generate(page, text):
    page.locator("#text textarea").fill(text)
    page.locator("#generate").click()


def test_browser_generates_audio_after_a_bad_request(server, files, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server, wait_until="networkidle")
    upload_voice(page, files / "voice.wav")
    generate(page, "")  # no text: an error toast, nothing breaks
    page.get_by_text("Please enter some text to speak.").first.wait_for(timeout=30_000)
    generate(page, "Hello from the browser.")
    wait_until_result_plays(page, 120)
    if shutil.which("ffmpeg"):  # streaming playback is on: the live player got the stream too
        assert any(a.evaluate("a => !!a.src") for a in page.locator("#live audio").all())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo.png"), full_page=True)
    page.close()


def test_streaming_handler_sends_chunks_then_the_whole_result(tmp_path, files):
    import gradio as gr

    from demo.app import Limits, make_stream
    from tts.api import TTS

    tts = TTS.from_pretrained(make_tiny_checkpoint(tmp_path / "ckpt"))  # never stops: runs to the length guard
    outputs = list(make_stream(tts, Limits())("Hello there.", str(files / "voice.wav"), "", 2.0, 2, 0))
    *live, final = outputs
    assert len(live) > 1 and all(isinstance(o[1], type(gr.skip())) for o in live)
    chunks = np.concatenate([o[0][1] for o in live])
    sr, whole = final[1]
    assert sr == SR and np.array_equal(chunks, whole)
    assert np.allclose(
        whole, tts.synthesize("Hello there.", voice=str(files / "voice.wav"), steps=2, seed=0).samples, atol=1e-6
    )
    assert final[2].ndim == 3  # the spectrogram image
