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

from faq.korean import get_kiwi, surface_tokens


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class KiwiTokenizer(Tokenizer):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def required_packages() -> List[str]:
        return ["kiwipiepy"]

    def __init__(self, config: Dict[str, Any]) -> None:
        super().__init__(config)
        get_kiwi()  # load once per process, at graph construction, not on the first message

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
        tokens = [
            Token(
                span.text,
                span.start,
                span.end,
                data={"pos": "+".join(m.tag for m in span.morphemes)},
                lemma=span.lemma,
            )
            for span in surface_tokens(text)
        ]
        return self._apply_token_pattern(tokens)
