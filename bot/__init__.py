"""Rasa project (run by the Rasa env) and its custom actions (run by the api)."""
