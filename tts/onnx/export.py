"""Export a TTS checkpoint to the ONNX graphs and onnx.json that `tts.onnx.OnnxTTS` runs.

    export_onnx("my-ckpt/")                  # in place: the graphs join the checkpoint directory
    export_onnx("default", "model-onnx/")    # a copy of the checkpoint, with its graphs

The graphs are written into a checkpoint directory and keep no weights of their own: their
initializers point into the directory's safetensors files (`tts.onnx.storage`), so the PyTorch
and ONNX Runtime engines share one copy of the model. Constants computable from sizes (DFT bases,
windows, mel filters) are computed in the graphs, and ONNX Runtime folds them when it loads them.

Graphs (inputs -> outputs; B batch, L prefix length, C cache capacity, S audio samples):

    vae_encoder.onnx  audio (B, S), S a multiple of hop                  -> mu (B, S / hop, D)
    vae_decoder.onnx  latents (B, k, D), state_0..state_n                -> audio (B, k * hop), new_state_0..n
    lm_prefill.onnx   tokens, latents, is_latent, positions (B, L), mask (B, L, L)
                                                                         -> cond (B, W), stop (B,), keys, values, ctc
    lm_step.onnx      z (B, D), position (B,), mask (B, C), past_key_i, past_value_i per layer
                                                                         -> cond, stop, key, value, ctc
    head_step.onnx    x (M, D), cond (M, W), t (1,)                      -> v (M, D)
    sampler.onnx      cond (G*B, W), noise (B, D), guidance_scale (1,)   -> z (B, D), the unrolled
                      DPM-Solver++(2M) loop with CFG for `sampler_steps` (other step counts use
                      head_step.onnx with the numpy solver)

onnx.json holds what the runtime needs besides the graphs: the LM config (special ids, latent
scale/bias, frames per phoneme), audio constants, the tokenizer vocabulary, the decoder state
shapes, the sampler's schedule and coefficient table, the length guard and the API defaults.
This module imports torch; the runtime does not.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from tts.load import ONNX_CONFIG as CONFIG
from tts.load import ONNX_FORMAT as FORMAT

FORMAT_VERSION = 1
CHECKPOINT_FILES = ("config.json", "model.safetensors", "vae/config.json", "vae/model.safetensors")
GRAPHS = ("vae_encoder", "vae_decoder", "lm_prefill", "lm_step", "head_step", "sampler")
QUANTIZED = ("lm_prefill", "lm_step", "head_step", "sampler")  # int8 leaves the σ-VAE in float (audio quality)
DEFAULT_OPSET = 17


def _lm_specs(model, sampler_steps: int):
    """(name, module, example inputs, input names, output names, dynamic axes) of the LM and head graphs."""
    import torch

    from tts.onnx.graphs_lm import HeadStepGraph, PrefillGraph, SamplerGraph, StepGraph

    cfg = model.cfg
    b, n, cap, d, w = 2, 5, 8, cfg.latent_dim, cfg.head_dim
    n_kv, hd = cfg.n_kv_heads, cfg.dim // cfg.n_heads
    valid = torch.ones(b, cap, dtype=torch.bool)
    past = []
    for _ in range(cfg.n_layers):
        past += [torch.randn(b, n_kv, hd, cap), torch.randn(b, n_kv, cap, hd)]
    past_names = [f"past_{kind}_{i}" for i in range(cfg.n_layers) for kind in ("key", "value")]
    prefill_in = (
        torch.full((b, n), cfg.bos_id),
        torch.randn(b, n, d),
        torch.zeros(b, n, dtype=torch.bool),
        torch.arange(n, dtype=torch.float32).repeat(b, 1),
        torch.ones(b, n, n, dtype=torch.bool).tril(),
    )
    batch = {0: "batch"}
    return [
        (
            "lm_prefill",
            PrefillGraph(model),
            prefill_in,
            ["tokens", "latents", "is_latent", "positions", "mask"],
            ["cond", "stop", "keys", "values", "ctc"],
            {
                **{k: {0: "batch", 1: "length"} for k in ("tokens", "latents", "is_latent", "positions")},
                "mask": {0: "batch", 1: "length", 2: "length"},
                "cond": batch,
                "stop": batch,
                "keys": {1: "batch", 4: "length"},
                "ctc": batch,
                "values": {1: "batch", 3: "length"},
            },
        ),
        (
            "lm_step",
            StepGraph(model),
            (torch.randn(b, d), torch.arange(b, dtype=torch.float32), valid, *past),
            ["z", "position", "mask", *past_names],
            ["cond", "stop", "key", "value", "ctc"],
            {
                "z": batch,
                "position": batch,
                "mask": {0: "batch", 1: "capacity"},
                "cond": batch,
                "stop": batch,
                "key": {1: "batch"},
                "ctc": batch,
                "value": {1: "batch"},
                **{k: ({0: "batch", 3: "capacity"} if "key" in k else {0: "batch", 2: "capacity"}) for k in past_names},
            },
        ),
        (
            "head_step",
            HeadStepGraph(model.head),
            (torch.randn(b, d), torch.randn(b, w), torch.tensor([500.0])),
            ["x", "cond", "t"],
            ["v"],
            {"x": {0: "rows"}, "cond": {0: "rows"}, "v": {0: "rows"}},
        ),
        (
            "sampler",
            SamplerGraph(model.head, sampler_steps),
            (torch.randn(2 * b, w), torch.randn(b, d), torch.tensor([2.0])),
            ["cond", "noise", "guidance_scale"],
            ["z"],
            {"cond": {0: "rows"}, "noise": batch, "z": batch},
        ),
    ]


def _vae_specs(vae):
    import torch

    from tts.onnx.graphs_vae import SIZE, DecoderGraph, EncoderGraph, decoder_state_shapes

    hop, d = vae.config.audio.hop, vae.config.audio.latent_dim
    shapes = decoder_state_shapes(vae)
    states = [torch.zeros(2, *s) for s in shapes]
    names = [f"state_{i}" for i in range(len(shapes))]
    new_names = [f"new_{n}" for n in names]
    axes = {n: {0: "batch"} for n in names + new_names}
    encoder_n_fft = torch.tensor(vae.encoder.mel.n_fft)
    decoder = DecoderGraph(vae)
    sizes = {} if decoder.istft is None else {f"{SIZE}n_fft": torch.tensor(decoder.istft.n_fft)}
    return [
        (
            "vae_encoder",
            EncoderGraph(vae),
            (torch.randn(2, 3 * hop) * 0.1, encoder_n_fft),
            ["audio", f"{SIZE}n_fft"],
            ["mu"],
            {"audio": {0: "batch", 1: "samples"}, "mu": {0: "batch", 1: "frames"}},
        ),
        (
            "vae_decoder",
            decoder,
            (torch.randn(2, 3, d), *states, *sizes.values()),
            ["latents", *names, *sizes],
            ["audio", *new_names],
            {"latents": {0: "batch", 1: "frames"}, "audio": {0: "batch", 1: "samples"}, **axes},
        ),
    ]


def _export_graph(spec, path: Path, opset: int) -> None:
    """Trace one graph to `path`, then freeze its size inputs into constants (`graphs_vae.SIZE`)."""
    import onnx
    import torch
    from onnx import numpy_helper

    from tts.onnx.graphs_vae import SIZE

    _, module, args, inputs, outputs, axes = spec
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(
            module.eval(),
            args,
            str(path),
            dynamo=False,
            opset_version=opset,
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=axes,
            do_constant_folding=False,  # initializers stay the checkpoint's own tensors (tts.onnx.storage)
        )
    model = onnx.load(str(path))
    sizes = {name: arg for name, arg in zip(inputs, args) if name.startswith(SIZE)}
    kept = [i for i in model.graph.input if i.name not in sizes]
    del model.graph.input[:]
    model.graph.input.extend(kept)
    model.graph.initializer.extend(numpy_helper.from_array(arg.numpy(), name) for name, arg in sizes.items())
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _to_fp16(path: Path) -> None:
    """Float16 weights and arithmetic, float32 inputs and outputs (for GPUs)."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = onnx.load(str(path))
    model = convert_float_to_float16(model, keep_io_types=True, node_block_list=_angle_nodes(model.graph))
    _sort_nodes(model.graph)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _angle_nodes(graph) -> list[str]:
    """Names of the Cos/Sin nodes and everything they are computed from: RoPE angles stay float32
    (in float16 a position near 300 is only resolved to 0.25 rad)."""
    producer = {out: node for node in graph.node for out in node.output}
    todo = [n for n in graph.node if n.op_type in ("Cos", "Sin")]
    names = set()
    while todo:
        node = todo.pop()
        if node.name not in names:
            names.add(node.name)
            todo += [producer[i] for i in node.input if i in producer]
    return sorted(names)


def _sort_nodes(graph) -> None:
    """Order nodes so each comes after its producers (the fp16 converter appends its input casts last)."""
    ready = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    pending, ordered = list(graph.node), []
    while pending:
        now = [n for n in pending if set(n.input) <= ready]
        rest = [n for n in pending if not set(n.input) <= ready]
        for node in now:
            ordered.append(node)
            ready.update(node.output)
        if len(rest) == len(pending):
            raise ValueError("graph has a cycle or a dangling input")
        pending = rest
    del graph.node[:]
    graph.node.extend(ordered)


def _gemm_to_matmul(model) -> None:
    """Rewrite Gemm(x, W^T) + b with a constant W as MatMul(x, W') + b, one W' per weight, so weights
    the unrolled sampler shares are quantised once (the quantiser's own Gemm path duplicates them)."""
    from onnx import helper, numpy_helper

    graph = model.graph
    weights = {w.name: w for w in graph.initializer}
    alias = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "Identity" and n.input[0] in weights}
    for node in graph.node:  # read shared weights directly, not through the exporter's Identity nodes
        node.input[:] = [alias.get(i, i) for i in node.input]
    done, nodes = set(), []
    for node in graph.node:
        if node.op_type == "Identity" and node.output[0] in alias:
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if (
            node.op_type != "Gemm"
            or node.input[1] not in weights
            or attrs.get("transA", 0)
            or attrs.get("alpha", 1.0) != 1.0
            or attrs.get("beta", 1.0) != 1.0
        ):
            nodes.append(node)
            continue
        w = node.input[1] + ("_t" if attrs.get("transB", 0) else "")
        if w not in done and w != node.input[1]:
            graph.initializer.append(numpy_helper.from_array(numpy_helper.to_array(weights[node.input[1]]).T.copy(), w))
        done.add(w)
        if len(node.input) < 3 or not node.input[2]:
            nodes.append(helper.make_node("MatMul", [node.input[0], w], list(node.output), name=node.name))
            continue
        product = node.output[0] + "_matmul"
        nodes.append(helper.make_node("MatMul", [node.input[0], w], [product], name=node.name + "_matmul"))
        nodes.append(helper.make_node("Add", [product, node.input[2]], list(node.output), name=node.name))
    del graph.node[:]
    graph.node.extend(nodes)


def _fold_weight_transposes(model) -> None:
    """Transpose(W) of a constant W becomes a transposed constant, and constants nothing reads are
    dropped, so the quantiser finds each matrix product's weight (the export leaves the
    transposes unfolded: its float graphs read the checkpoint's own tensors)."""
    from onnx import numpy_helper

    graph = model.graph
    weights = {w.name: w for w in graph.initializer}
    nodes = []
    for node in graph.node:
        if node.op_type != "Transpose" or node.input[0] not in weights:
            nodes.append(node)
            continue
        perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
        folded = numpy_helper.to_array(weights[node.input[0]]).transpose(perm)
        graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(folded), node.output[0]))
    del graph.node[:]
    graph.node.extend(nodes)
    used = {i for node in graph.node for i in node.input} | {o.name for o in graph.output}
    kept = [w for w in graph.initializer if w.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)


def _to_int8(path: Path) -> None:
    """Dynamic int8 quantisation of the matrix products: weights int8 with a scale per output channel
    (the bytes `tts.checkpoint.int8_linears` stores), activations quantised per call."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(path))
    _gemm_to_matmul(model)
    _fold_weight_transposes(model)
    onnx.save(model, str(path))
    tmp = path.with_suffix(".int8.onnx")
    quantize_dynamic(
        str(path), str(tmp), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"], per_channel=True
    )
    tmp.replace(path)
    onnx.checker.check_model(str(path))


def _runtime_config(tts, sampler_steps: int, opset: int, fp16: bool, int8: bool) -> dict:
    from tts import inference
    from tts.onnx.graphs_vae import decoder_state_shapes
    from tts.synthesis import Settings

    lm = tts.model.cfg
    table = tts.model.head.solver_table(sampler_steps, "cpu").double().numpy()
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "opset": opset,
        "precision": "fp16" if fp16 else "fp32",
        "quantization": "int8-dynamic" if int8 else None,
        "graphs": {name: f"{name}.onnx" for name in GRAPHS},
        "lm": lm.to_dict(),
        "audio": tts.audio_config.to_dict(),
        "tokenizer": tts.tokenizer.to_dict(),
        "vae": {"decoder_states": decoder_state_shapes(tts.vae)},
        "sampler": {
            "schedule": "cosine",
            "ddpm_steps": lm.ddpm_steps,
            "unrolled_steps": sampler_steps,
            "table": table.tolist(),
        },
        "length_guard": {"factor": inference.GUARD_FACTOR, "margin": inference.GUARD_MARGIN},
        "api": Settings().to_dict(),
    }


def export_onnx(
    ckpt: str | Path,
    out_dir: str | Path | None = None,
    opset: int = DEFAULT_OPSET,
    fp16: bool = False,
    int8: bool = False,
    sampler_steps: int | None = None,
) -> Path:
    """Write every graph and onnx.json of the checkpoint `ckpt` ("default" or a directory) into the
    checkpoint directory itself, or into a copy of it at `out_dir`; returns that directory."""
    import onnx

    from latentlm_common.errors import InputError
    from tts.api import TTS
    from tts.load import resolve_checkpoint
    from tts.onnx.storage import SharedData, safetensors_index, store_weights
    from tts.synthesis import DEFAULT_STEPS

    if fp16 and int8:
        raise InputError("--fp16 and --int8 exclude each other; choose one.")
    if opset < 17:
        raise InputError(f"--opset must be at least 17 (LayerNormalization), got {opset}.")
    steps = DEFAULT_STEPS if sampler_steps is None else int(sampler_steps)
    source = resolve_checkpoint(ckpt)
    tts = TTS.from_pretrained(source)
    if fp16 and tts.vae.config.head == "hnm":  # F0 and the running phase lose whole cycles in float16
        raise InputError("--fp16 cannot export a σ-VAE with the hnm head; use the default float32 or --int8.")
    out = source if out_dir is None else _copy_checkpoint(source, Path(out_dir))
    index, shared = safetensors_index(out), SharedData(out)
    for spec in _vae_specs(tts.vae) + _lm_specs(tts.model, steps):
        path = out / f"{spec[0]}.onnx"
        _export_graph(spec, path, opset)
        if fp16:
            _to_fp16(path)
        if int8 and spec[0] in QUANTIZED:
            _to_int8(path)
        model = onnx.load(str(path))
        store_weights(model, index, shared)
        onnx.save(model, str(path))
    if not shared.seen:
        shared.path.unlink(missing_ok=True)
    config = _runtime_config(tts, steps, opset, fp16, int8)
    (out / CONFIG).write_text(json.dumps(config, indent=1))
    return out


def _copy_checkpoint(source: Path, out: Path) -> Path:
    """The checkpoint's own files in `out`, which the graphs will point into."""
    import shutil

    from latentlm_common.errors import InputError

    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory.")
    if out.resolve() != source.resolve():
        for name in CHECKPOINT_FILES:
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / name, out / name)
    return out
