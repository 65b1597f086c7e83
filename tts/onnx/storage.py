"""Where the weights of exported graphs live: in the checkpoint's own safetensors files, stored once.

An export writes its graphs into a checkpoint directory, beside `model.safetensors` and
`vae/model.safetensors`. `store_weights` then rewrites each graph's initializers as ONNX external
data that points into those files (offset and length of the tensor's bytes), so both engines read
one copy of the model:

- a weight stored in the graph's dtype is referenced as it is;
- a float32 weight whose checkpoint copy is float16 (the bundled model stores its matrices in
  half precision) is referenced as float16 and cast back by a `Cast` node, which ONNX Runtime folds
  into a constant when it loads the graph;
- anything else large (int8-quantised matrices) goes once into `onnx.data` beside the graphs, shared
  by every graph that holds the same tensor.

ONNX Runtime only reads external data inside the graph's own directory, which is why the graphs sit
in the checkpoint's top level. The safetensors header is read here by hand (8-byte length, then
JSON with each tensor's dtype, shape and byte range): the library exposes tensors, not their offsets.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SHARED_DATA = "onnx.data"  # tensors of the graphs that are not in the checkpoint, each stored once
INLINE_BYTES = 1024  # smaller initializers (scalars, shapes) stay inside the graph
_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None, "I64": np.int64, "I32": np.int32, "I8": np.int8}


@dataclass(frozen=True)
class Stored:
    """One tensor's bytes in a file of the checkpoint directory."""

    location: str  # relative to the directory
    offset: int
    length: int
    dtype: np.dtype


def _digest(a: np.ndarray) -> tuple:
    return (a.shape, hashlib.sha1(np.ascontiguousarray(a).tobytes()).hexdigest())


def safetensors_index(directory: Path) -> dict[tuple, Stored]:
    """(shape, hash of the float32 value) and (shape, hash of the stored value) -> where each tensor of
    every safetensors file under `directory` lies."""
    index = {}
    for path in sorted(directory.rglob("*.safetensors")):
        raw = path.read_bytes()
        (n,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8 : 8 + n])
        for name, info in header.items():
            dtype = _DTYPES.get(info["dtype"]) if name != "__metadata__" else None
            if dtype is None:
                continue
            begin, end = info["data_offsets"]
            a = np.frombuffer(raw, dtype, offset=8 + n + begin, count=(end - begin) // np.dtype(dtype).itemsize)
            a = a.reshape(info["shape"])
            where = Stored(path.relative_to(directory).as_posix(), 8 + n + begin, end - begin, np.dtype(dtype))
            index.setdefault(_digest(a), where)
            if a.dtype == np.float16:
                index.setdefault(_digest(a.astype(np.float32)), where)
    return index


def _point(tensor, where: Stored) -> None:
    """Make `tensor` external data at `where` (its dtype must be where's)."""
    from onnx import TensorProto, helper

    tensor.ClearField("raw_data")
    tensor.data_type = helper.np_dtype_to_tensor_dtype(where.dtype)
    tensor.data_location = TensorProto.EXTERNAL
    del tensor.external_data[:]
    for key, value in (("location", where.location), ("offset", str(where.offset)), ("length", str(where.length))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value


class SharedData:
    """`onnx.data`: appends a tensor once, however many graphs hold it."""

    def __init__(self, directory: Path):
        self.path = directory / SHARED_DATA
        self.path.unlink(missing_ok=True)
        self.seen: dict[tuple, Stored] = {}

    def add(self, a: np.ndarray) -> Stored:
        key = (a.dtype.str, *_digest(a))
        if key not in self.seen:
            with self.path.open("ab") as f:
                offset = f.tell()
                f.write(np.ascontiguousarray(a).tobytes())
            self.seen[key] = Stored(SHARED_DATA, offset, a.nbytes, a.dtype)
        return self.seen[key]


def store_weights(model, index: dict[tuple, Stored], shared: SharedData) -> None:
    """Rewrite the large initializers of `model` (an in-memory onnx.ModelProto) as external data."""
    from onnx import TensorProto, helper, numpy_helper

    casts = []
    for tensor in model.graph.initializer:
        a = numpy_helper.to_array(tensor)
        if a.nbytes < INLINE_BYTES:
            continue
        where = index.get(_digest(a))
        if where is None or where.dtype == a.dtype:
            _point(tensor, where or shared.add(a))
            continue
        name = tensor.name  # the graph reads `name`: a Cast from the stored float16 copy produces it
        tensor.name = f"{name}.stored"
        _point(tensor, where)
        casts.append(helper.make_node("Cast", [tensor.name], [name], to=TensorProto.FLOAT, name=f"{name}.cast"))
    nodes = casts + list(model.graph.node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    if not shared.seen:
        shared.path.unlink(missing_ok=True)
