"""The Gradio web demo (`latentlm-tts demo`) and its bundled example voices."""
