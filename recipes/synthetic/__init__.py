"""Synthetic multi-speaker English corpus in LibriSpeech layout, built from open TTS voices (see README.md)."""
