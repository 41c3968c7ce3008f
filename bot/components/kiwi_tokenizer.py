"""Rasa tokenizer for Korean using Kiwi morphological analysis.

Tokens are non-overlapping surface spans of the ORIGINAL message (so entity
offsets line up with what the resident typed); each token's lemma joins the
morphemes it holds (했 → 하+었), which is what the count featurizers see.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from faq.korean import get_kiwi, get_plain_kiwi, surface_tokens


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class KiwiTokenizer(Tokenizer):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            # Load the maintained 민원 user-word list (주민등록등본 stays one token).
            "user_words": True,
            # Drop tokens made only of particles/endings (J*, E*): 은/는/요 carry
            # little for intents, but 해요 vs 해 (존댓말/반말) can.
            "drop_particles": False,
        }

    @staticmethod
    def required_packages() -> List[str]:
        return ["kiwipiepy"]

    def __init__(self, config: Dict[str, Any]) -> None:
        super().__init__(config)
        self.user_words = bool(config.get("user_words", True))
        self.drop_particles = bool(config.get("drop_particles", False))
        # Load once per process, at graph construction, not on the first message.
        get_kiwi() if self.user_words else get_plain_kiwi()

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "KiwiTokenizer":
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        text: str | None = message.get(attribute)
        if not text:
            return []
        spans = surface_tokens(text, self.user_words)
        if self.drop_particles:
            spans = [s for s in spans if not all(m.tag.startswith(("J", "E")) for m in s.morphemes)] or spans
        tokens = [
            Token(
                span.text,
                span.start,
                span.end,
                data={"pos": "+".join(m.tag for m in span.morphemes)},
                lemma=span.lemma,
            )
            for span in spans
        ]
        return self._apply_token_pattern(tokens)
