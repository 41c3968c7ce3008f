"""Custom Rasa actions, written against rasa-sdk and executed inside the api process."""

from bot.actions.faq import ActionAnswerFaq, ActionRecordFeedback, ActionRequestHuman

__all__ = ["ActionAnswerFaq", "ActionRecordFeedback", "ActionRequestHuman"]
