"""One contract for every Embedder: the hashing fake always, MiniLM from its offline package."""

from __future__ import annotations

import math

import pytest

from autan.errors import ConfigError
from autan.memory.embeddings import Embedder, HashingEmbedder, load_embedder


@pytest.fixture(
    params=[
        pytest.param("hashing", id="hashing"),
        pytest.param("hashing:96", id="hashing-96"),
        pytest.param("minilm", id="minilm", marks=pytest.mark.slow),
        pytest.param("minilm@onnx-int8", id="minilm-int8", marks=pytest.mark.slow),
    ]
)
def embedder(request: pytest.FixtureRequest) -> Embedder:
    return load_embedder(request.param)


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_shape_and_normalisation(embedder: Embedder) -> None:
    assert isinstance(embedder, Embedder)
    texts = ["read a file line by line", "", "sort a list of numbers", "x" * 5000]
    vectors = embedder.embed(texts)
    assert len(vectors) == len(texts)
    for v in vectors:
        assert len(v) == embedder.dim
        assert math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, rel_tol=1e-4)
    assert embedder.embed([]) == []


def test_order_and_determinism(embedder: Embedder) -> None:
    texts = [f"passage number {i} about topic {i % 3}" for i in range(40)]
    batch = embedder.embed(texts)
    one = embedder.embed([texts[17]])[0]
    assert _cos(batch[17], one) > 0.999
    assert _cos(embedder.embed_query(texts[5]), batch[5]) > 0.999


def test_vector_does_not_depend_on_batch_mates(embedder: Embedder) -> None:
    target = "the with statement closes the file even when the block raises an exception"
    short = [f"word {i}" for i in range(7)]
    long = [" ".join(f"token{i}x{j}" for j in range(120)) for i in range(7)]
    alone = embedder.embed([target])[0]
    for mates in (short, long, short[:3] + long[:3]):
        for at in (0, len(mates) // 2, len(mates)):
            batch = embedder.embed(mates[:at] + [target] + mates[at:])
            assert _cos(batch[at], alone) > 0.99999, (at, len(mates))


def test_related_texts_are_closer(embedder: Embedder) -> None:
    q = embedder.embed_query("how do I read a file line by line")
    near, far = embedder.embed(
        ["read the file line by line in a loop", "the weather in paris is sunny today"]
    )
    assert _cos(q, near) > _cos(q, far)


def test_names_and_dims() -> None:
    assert HashingEmbedder().dim == 256
    assert load_embedder("hashing:96").name == "hashing-96"
    with pytest.raises(ConfigError):
        load_embedder("hashing:abc")
    with pytest.raises(ConfigError):
        load_embedder("/no/such/model/dir")
