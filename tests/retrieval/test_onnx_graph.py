"""Plain layer norms and GELU: the rewritten graph computes what the fused operators compute."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from autan.memory.onnx_graph import plain_norms

H = 24


def _model() -> onnx.ModelProto:
    """x -> SkipLayerNorm(x, skip, bias) -> BiasGelu -> LayerNormalization -> y."""
    rng = np.random.default_rng(1)
    weights = {
        name: rng.standard_normal(H).astype(np.float32)
        for name in ("gamma", "beta", "bias", "gelu_bias", "g2", "b2")
    }
    node = helper.make_node
    nodes = [
        node(
            "SkipLayerNormalization",
            ["x", "skip", "gamma", "beta", "bias"],
            ["n1"],
            domain="com.microsoft",
            epsilon=1e-5,
        ),
        node("BiasGelu", ["n1", "gelu_bias"], ["g"], domain="com.microsoft"),
        node("LayerNormalization", ["g", "g2", "b2"], ["y"], epsilon=1e-5),
    ]
    shape = [None, None, H]
    graph = helper.make_graph(
        nodes,
        "fused",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n in ("x", "skip")],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
        [numpy_helper.from_array(v, k) for k, v in weights.items()],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets)


def _run(model: onnx.ModelProto, feed: dict[str, np.ndarray]) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    out: np.ndarray = session.run(None, feed)[0]
    return out


def test_plain_norms_compute_what_the_fused_operators_compute() -> None:
    rng = np.random.default_rng(2)
    feed = {k: rng.standard_normal((2, 7, H)).astype(np.float32) * 3 for k in ("x", "skip")}
    model = _model()
    fused = _run(model, feed)
    assert plain_norms(model) == 3
    ops = {n.op_type for n in model.graph.node}
    assert not ops & {"SkipLayerNormalization", "BiasGelu", "LayerNormalization"}
    onnx.checker.check_model(model)
    assert np.allclose(_run(model, feed), fused, atol=1e-4)
    assert plain_norms(model) == 0  # nothing left to rewrite
