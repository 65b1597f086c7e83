"""ONNX export (`tts.onnx.export`, needs torch) and the torch-free ONNX Runtime engine (`OnnxTTS`).

Nothing in this package imports torch at import time; `tts.onnx.export` imports it when called.
"""

__all__ = ["OnnxTTS"]


def __getattr__(name: str):
    if name == "OnnxTTS":  # imported on first use, so `tts.onnx.export` does not need onnxruntime loaded
        from tts.onnx.runtime import OnnxTTS

        return OnnxTTS
    raise AttributeError(f"module 'tts.onnx' has no attribute {name!r}")
