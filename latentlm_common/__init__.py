"""Utilities shared by every part of LatentLM-TTS (`tts`, `vae_audio`, `demo`, `recipes`).

    errors.py       `InputError`, the one exception a CLI shows as a single line
    audio.py        audio file I/O: load (any format, mono, resampled), loudness, trim, save
    files.py        `atomic_write`: every file the project writes appears whole or not at all
    distributed.py  `setup_distributed`: the torchrun process group of both trainers
    train_cli.py    `--set KEY=JSON` and `--stop-at STEP`, the flags both trainers share

Only `distributed.py` imports torch: the others serve the torch-free ONNX runtime too.
"""
