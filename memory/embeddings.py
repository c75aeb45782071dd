"""The embedder seam; implementations are added beside this Protocol."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised dense vectors of a fixed dimension."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for documents, in input order (batched internally)."""
        ...

    def embed_query(self, text: str) -> list[float]:
        """The vector for one query."""
        ...
