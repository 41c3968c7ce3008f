"""One thread per request for the models (MINWON_MODEL_THREADS, default 1): Rasa's TensorFlow really
runs with what the runner gives it, the api's query encoder too, and 0 leaves both at their defaults."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from api.runner import Stack, rasa_env
from api.settings import Settings

RASA_PYTHON = Path(__file__).resolve().parents[2] / ".venv-rasa" / "bin" / "python"
# What `rasa run` does before it loads a model (rasa/__main__.py), then what TensorFlow was set to.
TF_THREADS = """
from rasa.utils.tensorflow.environment import setup_tf_environment
setup_tf_environment()
import tensorflow as tf
print(tf.config.threading.get_inter_op_parallelism_threads(), tf.config.threading.get_intra_op_parallelism_threads())
"""
ENCODER_THREADS = """
import sys
import torch
from api.knowledge import Knowledge
from api.settings import Settings
settings = Settings.from_env(with_secret=False)
settings.embedding_model = sys.argv[1]
embedder = Knowledge(settings).embedder()
if embedder.onnx is not None:
    print(embedder.backend, embedder.onnx.session.get_session_options().intra_op_num_threads)
else:
    print(embedder.backend, torch.get_num_threads())
"""


def tensorflow_threads_in_rasa(settings: Settings) -> str:
    if not RASA_PYTHON.exists():
        pytest.skip("the Rasa env (.venv-rasa) is not built")
    env = rasa_env(Stack(settings).tensorflow_threads())
    done = subprocess.run([str(RASA_PYTHON), "-c", TF_THREADS], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def test_rasa_gets_one_tensorflow_thread_per_request_by_default(own_var_dir: Path) -> None:
    settings = Settings.from_env({"MINWON_VAR_DIR": str(own_var_dir)}, with_secret=False)
    assert settings.model_threads == 1
    assert tensorflow_threads_in_rasa(settings) == "1 1"


def test_zero_leaves_tensorflow_to_its_own_default(own_var_dir: Path) -> None:
    settings = Settings.from_env({"MINWON_VAR_DIR": str(own_var_dir), "MINWON_MODEL_THREADS": "0"}, with_secret=False)
    assert tensorflow_threads_in_rasa(settings) == "0 0"


@pytest.mark.parametrize("encoder", ["int8", "onnx", "torch"])
@pytest.mark.parametrize("threads", ["1", "2"])
def test_the_api_encoder_uses_the_configured_threads(encoder: str, threads: str) -> None:
    from tests.conftest import BUILT_MODEL

    env = {"MINWON_MODEL_THREADS": threads, "MINWON_ENCODER": encoder, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", ENCODER_THREADS, str(BUILT_MODEL)],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1] == f"{encoder} {threads}"


def test_an_unknown_encoder_runtime_is_named_in_the_error() -> None:
    from api.settings import SettingsError

    with pytest.raises(SettingsError, match="MINWON_ENCODER must be 'int8', 'onnx' or 'torch', got 'gpu'"):
        Settings.from_env({"MINWON_ENCODER": "gpu"}, with_secret=False)
    assert Settings.from_env({"MINWON_ENCODER": "torch"}, with_secret=False).encoder == "torch"
