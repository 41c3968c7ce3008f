"""The query encoder on ONNX Runtime: the same BERT, mean pooling and normalisation, at less CPU per query.

Why not sentence-transformers' own ``backend="onnx"``: it loads through optimum-onnx, whose releases
require transformers < 4.58, and this project runs transformers 5. So the model build exports the
network once with ``torch.onnx.export`` into ``onnx/`` beside the sentence-transformers files, with the
tokenizer, the query prompt and the token limit, so the api loads that folder alone (torch's copy of the
weights is never loaded). The export is kept only if the folder, loaded as the api loads it, gives
torch's vectors on a few Korean sentences. Measured on the development machine: about 0.4x the CPU per
query of torch, vectors equal to 1e-7, KorSTS unchanged.

Beside it, ``model.int8.onnx``: the same graph with its MatMul weights quantised to int8 per output
channel (ONNX Runtime's dynamic quantisation; activations are quantised per call), served with
``MINWON_ENCODER=int8``: about 0.4x the CPU per query of the float export, KorSTS 0.7655 against 0.7684
(test split, 1,379 pairs). Not the default: its slightly different similarities flip borderline
decisions (choices or an answer, a follow-up's reading) that the retrieval thresholds were tuned for on
float vectors. The embedding table stays float: quantising every op, that table included (per tensor),
lost 0.008 KorSTS; per-tensor MatMul scales alone lost 0.009.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# The query encoder's runtime: "int8" and "onnx" (float) when the model folder holds the export, else torch.
Backend = Literal["int8", "onnx", "torch"]
ONNX_DIR = Path("onnx")
ONNX_FILE = ONNX_DIR / "model.onnx"
INT8_FILE = ONNX_DIR / "model.int8.onnx"
SETTINGS_FILE = ONNX_DIR / "encoder.json"  # the query prompt and the token limit
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# The export is kept only if ONNX Runtime reproduces torch's vectors this closely.
MAX_DIFFERENCE = 1e-4
# The int8 graph is kept only if each check sentence's vector points this close to the float one.
MIN_INT8_COSINE = 0.98
CHECK_TEXTS = ["이사 왔는데 주소 옮기는 건 어디서 하죠?", "여권 재발급 수수료 얼마예요", "등본떼려면 뭐필요함ㅠㅠ"]


class OnnxExportError(RuntimeError):
    pass


def exported(folder: Path, backend: Backend = "onnx") -> bool:
    graph = INT8_FILE if backend == "int8" else ONNX_FILE
    return backend != "torch" and (folder / graph).exists() and (folder / SETTINGS_FILE).exists()


def usable(model: SentenceTransformer) -> bool:
    """Only the shape this project builds: Transformer, mean pooling, normalisation."""
    from sentence_transformers.base.modules.normalize import Normalize
    from sentence_transformers.sentence_transformer.modules.pooling import Pooling

    modules = list(model)
    return (
        len(modules) == 3
        and isinstance(modules[1], Pooling)
        and getattr(modules[1], "pooling_mode", None) == "mean"
        and getattr(modules[1], "include_prompt", True)
        and isinstance(modules[2], Normalize)
    )


def export(model: SentenceTransformer, folder: Path, progress: Callable[[str], None] = print) -> Path:
    """Write ``folder/onnx/`` from the model and check it against torch; nothing is left if it differs."""
    import shutil

    import torch

    if not usable(model):
        raise OnnxExportError("only Transformer -> mean pooling -> Normalize models are exported")
    bert: Any = model[0].auto_model
    bert.eval()
    prompt = str((model.prompts or {}).get("query", ""))
    sample = model.tokenizer([prompt + "여권"], return_tensors="pt")
    names = [name for name in INPUTS if name in sample]

    class LastHidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            hidden: torch.Tensor = self.bert(**dict(zip(names, tensors, strict=True))).last_hidden_state
            return hidden

    target = folder / ONNX_DIR
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "hidden"]}
    progress("[model] exporting the encoder for ONNX Runtime")
    with torch.no_grad():
        torch.onnx.export(
            LastHidden(),
            tuple(sample[name] for name in names),
            str(folder / ONNX_FILE),
            input_names=names,
            output_names=["hidden"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    model.tokenizer.save_pretrained(str(target))
    limit = model.max_seq_length or model.tokenizer.model_max_length
    settings = {"prompt": prompt, "max_length": int(limit)}
    (folder / SETTINGS_FILE).write_text(json.dumps(settings, ensure_ascii=False), encoding="utf-8")
    ours = OnnxEncoder(folder).encode(CHECK_TEXTS)
    theirs = model.encode(CHECK_TEXTS, prompt=prompt, normalize_embeddings=True, convert_to_numpy=True)
    difference = float(np.abs(ours - theirs).max())
    if difference > MAX_DIFFERENCE:
        shutil.rmtree(target)
        raise OnnxExportError(f"ONNX Runtime differs from torch by {difference:.2e} (> {MAX_DIFFERENCE})")
    progress(f"[model] ONNX encoder matches torch (largest difference {difference:.1e})")
    quantise(folder, progress)
    return target


def quantise(folder: Path, progress: Callable[[str], None] = print) -> Path:
    """Write ``onnx/model.int8.onnx`` from the float export; nothing is left if its vectors stray."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = folder / INT8_FILE
    progress("[model] quantising the encoder's MatMul weights to int8")
    quantize_dynamic(
        folder / ONNX_FILE, target, op_types_to_quantize=["MatMul"], per_channel=True, weight_type=QuantType.QInt8
    )
    ours = OnnxEncoder(folder, backend="int8").encode(CHECK_TEXTS)
    theirs = OnnxEncoder(folder).encode(CHECK_TEXTS)
    cosine = float((ours * theirs).sum(axis=1).min())
    if cosine < MIN_INT8_COSINE:
        target.unlink()
        raise OnnxExportError(f"the int8 encoder strays from the float one (cosine {cosine:.4f} < {MIN_INT8_COSINE})")
    progress(f"[model] int8 encoder follows the float one (lowest cosine {cosine:.4f})")
    return target


class OnnxEncoder:
    """Texts to unit vectors from ``folder/onnx/`` alone, as the sentence-transformers model gives them."""

    def __init__(self, folder: Path, threads: int = 0, backend: Literal["int8", "onnx"] = "onnx") -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        settings = json.loads((folder / SETTINGS_FILE).read_text(encoding="utf-8"))
        self.prompt: str = settings["prompt"]
        self.max_length: int = settings["max_length"]
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder / ONNX_DIR))
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(0, threads)  # 0: ONNX Runtime's default, one per core
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # The arena keeps the largest batch's buffers for good; a query is small, so RSS matters more.
        options.enable_cpu_mem_arena = False
        self.backend = backend
        graph = folder / (INT8_FILE if backend == "int8" else ONNX_FILE)
        self.session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self.names = [i.name for i in self.session.get_inputs()]

    def encode(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        """The query prompt is put in front of each text here, as sentence-transformers does."""
        if not texts:
            width = self.session.get_outputs()[0].shape[-1]
            return np.zeros((0, width if isinstance(width, int) else 0), dtype=np.float32)
        prompted = [self.prompt + t for t in texts]
        # Longest first, as sentence-transformers does: a batch pads to its longest text.
        order = sorted(range(len(prompted)), key=lambda i: -len(prompted[i]))
        ordered = [prompted[i] for i in order]
        parts = [self._batch(batch) for batch in self._batches(ordered, batch_size, show_progress)]
        vectors = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        vectors[order] = np.concatenate(parts)
        return vectors

    def _batches(self, texts: list[str], size: int, show_progress: bool) -> Iterator[list[str]]:
        starts = range(0, len(texts), max(1, size))
        if show_progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Batches", unit="batch")
        for start in starts:
            yield texts[start : start + size]

    def _batch(self, texts: list[str]) -> np.ndarray:
        encoded = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="np")
        hidden = self.session.run(None, {name: encoded[name].astype(np.int64) for name in self.names})[0]
        mask = encoded["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: np.ndarray = pooled / np.clip(norms, 1e-12, None)
        return result
