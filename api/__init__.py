"""Resident-facing FastAPI service: chat API, action server, widget and demo page."""
