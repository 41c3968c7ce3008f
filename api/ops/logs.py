"""Log lines for operators: plain text, or one JSON object per line for a log collector.

Only the served api configures logging (``create_asgi``); the messages themselves are already
masked where they are written, so the format changes nothing about what is logged.
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from api.settings import LogFormat

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# uvicorn's own loggers follow the chosen format too, so a collector gets one kind of line.
LOGGERS = ("minwon", "uvicorn", "uvicorn.error", "uvicorn.access")


def formatter(log_format: LogFormat) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            timestamp=False,
        )
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(log_format: LogFormat) -> None:
    """Send the api's (and, for JSON, uvicorn's) logs to stderr in ``log_format``; safe to call twice."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    for name in LOGGERS if log_format == "json" else LOGGERS[:1]:
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
    logging.getLogger("minwon").setLevel(logging.INFO)
