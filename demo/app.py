"""Gradio web demo: a thin shell over `TTS.synthesize` (or the ONNX engine with the same surface).

Started by `latentlm-tts demo`. The only state is the loaded model, passed to `build_demo`.
The synthesis endpoint is also exposed to `gradio_client` as `/synthesize`.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latentlm_common.audio import load_audio
from latentlm_common.errors import InputError
from tts.synthesis import DEFAULT_GUIDANCE_SCALE, DEFAULT_STEPS, MAX_SPEED, MIN_SPEED

EXAMPLES_DIR = Path(__file__).parent / "examples"
STREAM_FRAMES = 8  # latent frames (1/15 s each) per chunk sent to the live player
EXAMPLE_TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Next-token diffusion writes speech one latent frame at a time.",
    "On March 3rd, 2024, the train left at 7:45 a.m. sharp.",
]


@dataclass(frozen=True)
class Limits:
    max_chars: int = 600  # text longer than this is refused
    max_prompt_seconds: float = 30.0  # longer voice prompts are refused (the model uses a few seconds)
    max_upload: str = "10mb"  # Gradio rejects larger uploads before they reach us
    concurrency: int = 1  # syntheses at once; more requests wait in the queue
    queue_size: int = 16


def spectrogram_image(audio: np.ndarray, sample_rate: int, height: int = 128) -> np.ndarray:
    """A log-magnitude spectrogram as an RGB uint8 image (H, W, 3), low frequencies at the bottom."""
    n_fft, hop = 1024, max(1, sample_rate // 100)
    x = np.pad(audio.astype(np.float32), (0, max(0, n_fft - len(audio))))
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop] * np.hanning(n_fft)
    mag = np.abs(np.fft.rfft(frames, axis=1)).T  # (freq, time)
    db = 20 * np.log10(mag + 1e-5)
    db = np.clip((db - (db.max() - 80.0)) / 80.0, 0.0, 1.0)
    rows = np.linspace(0, db.shape[0] - 1, height).astype(int)
    img = db[rows][::-1]
    # a dark-blue -> yellow ramp, written out so no plotting library is needed
    ramp = np.array([[13, 8, 135], [126, 3, 168], [204, 71, 120], [248, 149, 64], [240, 249, 33]], np.float32)
    pos = img * (len(ramp) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(ramp) - 2)
    frac = (pos - lo)[..., None]
    return (ramp[lo] * (1 - frac) + ramp[lo + 1] * frac).astype(np.uint8)


def _side_by_side(left: np.ndarray, right: np.ndarray, gap: int = 8) -> np.ndarray:
    spacer = np.full((left.shape[0], gap, 3), 255, np.uint8)
    return np.concatenate([left, spacer, right], axis=1)


def _checked_request(
    tts, limits: Limits, text: str, voice: str | None, voice_text: str, guidance_scale, steps, seed, speed
):
    """Validate one request; return (prompt samples or None, keyword arguments for the model)."""
    import gradio as gr

    text = (text or "").strip()
    if not text:
        raise gr.Error("Please enter some text to speak.")
    if len(text) > limits.max_chars:
        raise gr.Error(f"The text is {len(text)} characters long; the limit here is {limits.max_chars}.")
    try:
        prompt = load_audio(voice, tts.sample_rate) if voice else None
    except InputError as e:
        raise gr.Error(str(e)) from None
    if prompt is not None and len(prompt) > limits.max_prompt_seconds * tts.sample_rate:
        raise gr.Error(f"The voice prompt is longer than {limits.max_prompt_seconds:.0f} s; upload a shorter clip.")
    kwargs = dict(
        voice=voice or None,
        voice_text=(voice_text or "").strip() or None,
        guidance_scale=float(guidance_scale),
        steps=int(steps),
        seed=int(seed),
        speed=float(speed),
    )
    return text, prompt, kwargs


def _picture(tts, prompt: np.ndarray | None, samples: np.ndarray) -> np.ndarray:
    image = spectrogram_image(samples, tts.sample_rate)
    return image if prompt is None else _side_by_side(spectrogram_image(prompt, tts.sample_rate), image)


def make_synthesize(tts, limits: Limits):
    """The request handler: validate, synthesise, return (audio, spectrogram image)."""
    import gradio as gr

    def synthesize(text: str, voice, voice_text: str, guidance_scale: float, steps: float, seed: float, speed=1.0):
        text, prompt, kwargs = _checked_request(
            tts, limits, text, voice, voice_text, guidance_scale, steps, seed, speed
        )
        try:
            audio = tts.synthesize(text, **kwargs)
        except InputError as e:
            raise gr.Error(str(e)) from None
        return (audio.sample_rate, audio.samples), _picture(tts, prompt, audio.samples)

    return synthesize


def make_stream(tts, limits: Limits):
    """The page's handler when streaming playback is on: audio chunks to the live player as the
    frames are generated, then the whole result and its spectrogram."""
    import gradio as gr

    def stream(text: str, voice, voice_text: str, guidance_scale: float, steps: float, seed: float, speed=1.0):
        text, prompt, kwargs = _checked_request(
            tts, limits, text, voice, voice_text, guidance_scale, steps, seed, speed
        )
        chunks = []
        try:
            for chunk in tts.stream(text, frames_per_chunk=STREAM_FRAMES, **kwargs):
                chunks.append(chunk)
                yield (tts.sample_rate, chunk), gr.skip(), gr.skip()
        except InputError as e:
            raise gr.Error(str(e)) from None
        samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        yield gr.skip(), (tts.sample_rate, samples), _picture(tts, prompt, samples)

    return stream


def build_demo(tts, limits: Limits = Limits(), defaults: dict | None = None, streaming: bool | None = None):
    """Build the Blocks app for a loaded model (`TTS` or `OnnxTTS`).

    With streaming playback (the default where ffmpeg is installed, which Gradio needs for it)
    the Generate button plays audio as it is generated; `/synthesize` stays a plain request
    that returns the whole file, for `gradio_client`.
    """
    import gradio as gr

    streaming = shutil.which("ffmpeg") is not None if streaming is None else streaming

    defaults = {"guidance_scale": DEFAULT_GUIDANCE_SCALE, "steps": DEFAULT_STEPS, **(defaults or {})}
    with gr.Blocks(title="LatentLM-TTS") as demo:
        gr.Markdown(
            "# LatentLM-TTS\nZero-shot voice cloning with next-token diffusion. "
            "Give a text and a few seconds of the voice to clone."
        )
        with gr.Row():
            with gr.Column():
                text = gr.Textbox(label="Text", lines=4, max_length=limits.max_chars, elem_id="text")
                voice = gr.Audio(
                    label="Voice prompt (3-10 s)", sources=["upload", "microphone"], type="filepath", elem_id="voice"
                )
                voice_text = gr.Textbox(label="Transcript of the prompt (optional: continuation mode)", lines=1)
                with gr.Row():
                    cfg = gr.Slider(1.0, 4.0, value=defaults["guidance_scale"], step=0.1, label="CFG scale")
                    steps = gr.Slider(2, 30, value=defaults["steps"], step=1, label="Sampler steps")
                    seed = gr.Number(value=0, precision=0, label="Seed")
                    speed = gr.Slider(MIN_SPEED, MAX_SPEED, value=1.0, step=0.05, label="Speed")
                button = gr.Button("Generate", variant="primary", elem_id="generate")
            with gr.Column():
                if streaming:
                    live = gr.Audio(label="Live", streaming=True, autoplay=True, interactive=False, elem_id="live")
                out_audio = gr.Audio(label="Result", type="numpy", interactive=False, elem_id="result")
                out_image = gr.Image(label="Spectrogram: prompt | result", type="numpy", interactive=False)
        examples = sorted(EXAMPLES_DIR.glob("*.wav"))
        if examples:
            gr.Examples([[t, str(v)] for t, v in zip(EXAMPLE_TEXTS, examples)], inputs=[text, voice])
        inputs = [text, voice, voice_text, cfg, steps, seed, speed]
        queue = dict(concurrency_limit=limits.concurrency, concurrency_id="synthesis")
        api_trigger = gr.Button(visible=False) if streaming else button
        api_trigger.click(make_synthesize(tts, limits), inputs, [out_audio, out_image], api_name="synthesize", **queue)
        if streaming:
            button.click(make_stream(tts, limits), inputs, [live, out_audio, out_image], api_name="stream", **queue)
    demo.queue(max_size=limits.queue_size)
    return demo


def launch(
    tts,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    limits: Limits = Limits(),
    defaults: dict | None = None,
    block: bool = True,
):
    demo = build_demo(tts, limits, defaults)
    demo.launch(
        server_name=host,
        server_port=port,
        share=share,
        max_file_size=limits.max_upload,
        prevent_thread_lock=not block,
        show_error=True,
    )
    return demo
