"""Embedder runtimes: ONNX matches torch, identities keep vector spaces apart, lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autan.cli.app import main
from autan.errors import ConfigError
from autan.memory.embed_onnx import buckets
from autan.memory.embeddings import embedder_for, load_embedder, parse_spec, spec_for

from .corpus import write_corpus

TEXTS = [
    "how do I read a file line by line",
    "Sorting HOWTO: both list.sort() and sorted() take a key function. " * 6,
    "",
    "x",
]


def test_specs_and_identities() -> None:
    assert parse_spec("minilm") == ("minilm", None)
    assert parse_spec("minilm@fast") == ("minilm", "model2vec")
    assert parse_spec("/models/e5@int8") == ("/models/e5", "onnx-int8-v2")
    with pytest.raises(ConfigError, match="unknown embedding runtime"):
        parse_spec("minilm@tpu")
    assert spec_for("all-MiniLM-L6-v2") == "minilm@onnx"  # fp32, the identity before int8
    assert spec_for("all-MiniLM-L6-v2@onnx-int8") == "minilm@onnx-int8"  # the first int8 graph
    assert spec_for("all-MiniLM-L6-v2@onnx-int8-v2") == "minilm@onnx-int8-v2"
    assert spec_for("hashing-256") is None
    with pytest.raises(ConfigError, match="local model folder"):
        load_embedder("/no/such/model@onnx")


def test_length_buckets_cover_every_text_once_within_limits() -> None:
    lengths = [5, 300, 7, 2, 120, 121, 9, 256, 1, 64] * 7
    seen: list[int] = []
    for batch in buckets(lengths, batch_size=8, max_tokens=600):
        assert len(batch) <= 8
        assert max(lengths[i] for i in batch) * len(batch) <= max(600, max(lengths))
        seen += batch
    assert sorted(seen) == list(range(len(lengths)))


@pytest.mark.slow
def test_onnx_fp32_matches_torch_and_int8_is_close(model_cache: Path) -> None:
    torch_e = load_embedder("minilm@torch", model_cache)
    onnx_e = load_embedder("minilm@onnx", model_cache)
    int8_e = load_embedder("minilm@onnx-int8", model_cache)
    v2_e = load_embedder("minilm@onnx-int8-v2", model_cache)
    ref = np.asarray(torch_e.embed(TEXTS))
    fp32, int8 = np.asarray(onnx_e.embed(TEXTS)), np.asarray(int8_e.embed(TEXTS))
    v2 = np.asarray(v2_e.embed(TEXTS))
    assert np.min(np.sum(ref * fp32, axis=1)) > 0.9999
    for vectors in (int8, v2):
        assert 0.95 < np.min(np.sum(ref * vectors, axis=1)) < 0.99999
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert np.min(np.sum(int8 * v2, axis=1)) > 0.99  # one quantisation, two graphs
    assert onnx_e.name == torch_e.name == "all-MiniLM-L6-v2"  # same vectors, one identity
    assert int8_e.name == "all-MiniLM-L6-v2@onnx-int8"
    assert v2_e.name == "all-MiniLM-L6-v2@onnx-int8-v2"


@pytest.mark.slow
def test_default_runtime_is_onnx_int8_v2_and_loads_without_torch(model_cache: Path) -> None:
    load_embedder("minilm@onnx-int8-v2", model_cache)  # exported (with torch) once, here
    probe = (
        "import sys; from pathlib import Path\n"
        "from autan.memory.embeddings import load_embedder\n"
        "e = load_embedder('minilm', Path(sys.argv[1])); v = e.embed_query('hello')\n"
        "print(e.name, len(v), 'torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(model_cache)], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["all-MiniLM-L6-v2@onnx-int8-v2", "384", "False", "False"]


@pytest.mark.slow
def test_a_collection_keeps_its_runtime(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = write_corpus(tmp_path / "docs")
    monkeypatch.setenv("AUTAN_RETRIEVAL__EMBEDDER", "minilm@onnx")  # fp32, the old default
    assert main(["ingest", str(docs), "--json"]) == 0
    monkeypatch.setenv("AUTAN_RETRIEVAL__EMBEDDER", "minilm@onnx-int8")
    capsys.readouterr()
    assert main(["search", "read a file"]) == 2
    err = capsys.readouterr().err
    assert "'all-MiniLM-L6-v2'" in err and "'minilm@onnx'" in err
    assert err.count("\n") == 1
    monkeypatch.setenv("AUTAN_RETRIEVAL__EMBEDDER", "minilm")  # plain minilm follows it
    assert main(["search", "read a file line by line", "--json"]) == 0
    cites = json.loads(capsys.readouterr().out)["citations"]
    assert cites[0]["source"].endswith("guide/files.md")
    assert embedder_for("minilm", "all-MiniLM-L6-v2").name == "all-MiniLM-L6-v2"
    assert embedder_for("minilm", "all-MiniLM-L6-v2@onnx-int8").name.endswith("@onnx-int8")
    assert embedder_for("minilm", "all-MiniLM-L6-v2@onnx-int8-v2").name.endswith("@onnx-int8-v2")


@pytest.mark.slow
def test_parallel_buckets_keep_input_order(model_cache: Path) -> None:
    from autan.memory import model_cache as artefacts
    from autan.memory.embed_onnx import OnnxEmbedder
    from autan.memory.embeddings import minilm_path

    folder = artefacts.onnx_model(model_cache, minilm_path(), "fp32")
    texts = [f"passage {i}: " + "about reading files " * (1 + i % 9) for i in range(23)]

    def make(threads: int) -> OnnxEmbedder:
        files = (folder / "model.onnx", folder / "tokenizer.json")
        return OnnxEmbedder(*files, name="m", batch_size=2, threads=threads)

    one, two = make(1).embed_array(texts), make(2).embed_array(texts)
    alone = np.asarray([make(1).embed_query(t) for t in texts[:3]])
    assert np.allclose(one, two, atol=1e-5)  # fp32: batching changes nothing but padding
    assert np.allclose(one[:3], alone, atol=1e-4)


@pytest.mark.slow
def test_int8_vectors_do_not_depend_on_batch_mates(model_cache: Path) -> None:
    import onnx

    from autan.memory import model_cache as artefacts
    from autan.memory.embeddings import minilm_path

    texts = [f"passage {i}: " + "about reading files " * (1 + i % 9) for i in range(11)]
    for runtime, kind in (("onnx-int8", "int8"), ("onnx-int8-v2", "int8-v2")):
        embedder = load_embedder(f"minilm@{runtime}", model_cache)
        together = np.asarray(embedder.embed(texts))
        alone = np.asarray([embedder.embed_query(t) for t in texts])
        assert np.array_equal(together, alone)  # bit for bit, padding and scales included
        graph = onnx.load(
            str(artefacts.onnx_model(model_cache, minilm_path(), kind) / "model.onnx")
        )
        attention = [n for n in graph.graph.node if n.op_type == "QAttention"]
        assert attention and all(not n.input[5] for n in attention)  # one text a run: no mask
