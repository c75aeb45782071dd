"""Graph rewrites compute what the graphs they replace compute: plain layer norms and GELU, and
attention without a mask on unpadded texts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from autan.memory.onnx_graph import drop_attention_mask, plain_norms

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


def _attention_model() -> onnx.ModelProto:
    """x -> Attention(x, mask) -> y: ONNX Runtime's fused self-attention, two heads."""
    rng = np.random.default_rng(3)
    weights = {
        "qkv": rng.standard_normal((H, 3 * H)).astype(np.float32) / 4,
        "qkv_bias": rng.standard_normal(3 * H).astype(np.float32) / 4,
    }
    node = helper.make_node(
        "Attention", ["x", "qkv", "qkv_bias", "mask"], ["y"], domain="com.microsoft", num_heads=2
    )
    graph = helper.make_graph(
        [node],
        "attention",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, None, H]),
            helper.make_tensor_value_info("mask", TensorProto.INT32, [None, None]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, None, H])],
        [numpy_helper.from_array(v, k) for k, v in weights.items()],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets)


def test_attention_without_mask_gives_unpadded_texts_the_same_output(tmp_path: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    onnx.save(_attention_model(), str(tmp_path / "fp32.onnx"))
    quantize_dynamic(
        tmp_path / "fp32.onnx",
        tmp_path / "int8.onnx",
        per_channel=True,
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["Attention"],
    )
    x = np.random.default_rng(4).standard_normal((1, 9, H)).astype(np.float32)
    for name, op in (("fp32", "Attention"), ("int8", "QAttention")):
        model = onnx.load(str(tmp_path / f"{name}.onnx"))
        assert [n.op_type for n in model.graph.node if "Attention" in n.op_type] == [op]
        expected = _run(model, {"x": x, "mask": np.ones((1, 9), dtype=np.int32)})
        assert drop_attention_mask(model) == 1
        del model.graph.input[1]  # nothing reads the mask any more
        onnx.checker.check_model(model)
        assert np.array_equal(_run(model, {"x": x}), expected)  # bit for bit
        assert drop_attention_mask(model) == 0
