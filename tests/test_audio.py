import numpy as np
import pytest
import soundfile as sf

from latentlm_common.audio import load_audio, rms_dbfs, save_audio
from latentlm_common.errors import InputError
from vae_audio.config import AudioConfig

SR = AudioConfig().sample_rate


def test_load_resamples_downmixes_trims_and_normalises(wav_file):
    x = load_audio(wav_file, SR)
    assert x.ndim == 1 and x.dtype == np.float32
    # 1 s of tone survives, most of the 0.6 s of silence is trimmed (50 ms margins are kept)
    assert 1.0 * SR <= len(x) <= 1.15 * SR
    assert abs(rms_dbfs(x) - AudioConfig().target_dbfs) < 0.1


def test_load_without_trim_or_normalize_keeps_length_and_level(wav_file):
    x = load_audio(wav_file, SR, normalize_dbfs=None, trim=False)
    assert len(x) == int(1.6 * SR)
    assert np.max(np.abs(x)) == pytest.approx(0.75 * 0.3, rel=0.02)  # mean of the two channels


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg", ".mp3"])
def test_save_and_load_round_trip_every_format(tmp_path, suffix):
    x = 0.3 * np.sin(np.linspace(0, 2000, SR)).astype(np.float32)
    path = save_audio(tmp_path / f"a{suffix}", x, SR)
    y = load_audio(path, SR, normalize_dbfs=None, trim=False)
    assert abs(len(y) - SR) < 0.05 * SR


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such audio file"):
        load_audio(tmp_path / "nope.wav", SR)


def test_corrupt_file(tmp_path):
    p = tmp_path / "bad.wav"
    p.write_bytes(b"RIFF\x00\x00garbage" * 10)
    with pytest.raises(InputError, match="cannot read this file as audio"):
        load_audio(p, SR)


def test_text_file_is_not_audio(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello")
    with pytest.raises(InputError, match="cannot read"):
        load_audio(p, SR)


def test_empty_audio(tmp_path):
    p = tmp_path / "empty.wav"
    sf.write(p, np.zeros(0, dtype=np.float32), SR)
    with pytest.raises(InputError, match="empty"):
        load_audio(p, SR)


def test_silent_audio(tmp_path):
    p = tmp_path / "silent.wav"
    sf.write(p, np.zeros(SR, dtype=np.float32), SR)
    with pytest.raises(InputError, match="silent"):
        load_audio(p, SR)


def test_nan_audio(tmp_path):
    p = tmp_path / "nan.wav"
    x = np.full(SR, 0.1, dtype=np.float32)
    x[100] = np.nan
    sf.write(p, x, SR, subtype="FLOAT")
    with pytest.raises(InputError, match="NaN"):
        load_audio(p, SR)


def test_unsupported_output_format(tmp_path):
    with pytest.raises(InputError, match="unsupported output format"):
        save_audio(tmp_path / "a.xyz", np.zeros(10), SR)


def test_error_messages_are_one_line(tmp_path):
    p = tmp_path / "bad.wav"
    p.write_bytes(b"\x00" * 100)
    with pytest.raises(InputError) as e:
        load_audio(p, SR)
    assert "\n" not in str(e.value)
