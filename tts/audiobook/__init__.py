"""Batch audiobook synthesis: long documents, one voice, resumable."""
