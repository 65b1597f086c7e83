"""Layers the backbone (`tts.lm`) and the diffusion head (`tts.diffusion`) share."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class RMSNorm(nn.Module):
    """`nn.RMSNorm`'s arithmetic (same `weight` name), written out because the TorchScript ONNX
    exporter has no `aten::rms_norm` below opset 23. It is written as x / sqrt(mean(x²) + eps) * weight,
    the form ONNX Runtime fuses into one SimplifiedLayerNormalization node; without `affine` the
    weight is a buffer of ones outside the state dict, so that the fusion still applies."""

    def __init__(self, dim: int, eps: float, affine: bool = True):
        super().__init__()
        self.eps = eps
        if affine:
            self.weight = nn.Parameter(torch.ones(dim))
        else:
            self.register_buffer("weight", torch.ones(dim), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class SwiGLU(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.hidden = hidden
        self.gate_up = nn.Linear(dim, 2 * hidden, bias=False)
        self.down = nn.Linear(hidden, dim, bias=False)

    def forward(self, x):
        gate, up = self.gate_up(x).split(self.hidden, dim=-1)  # constant sizes: one ONNX Split
        return self.down(F.silu(gate) * up)
