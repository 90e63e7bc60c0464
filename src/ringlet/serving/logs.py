"""The server's log: one handler on the root logger, which uvicorn's loggers reach too (they
propagate; uvicorn is given no logging configuration of its own), in one of two formats:

- `text` (the default): `LEVEL logger: message`, for a terminal;
- `json`: one JSON object a line, `{"time", "level", "logger", "message", ...}`, for a log
  collector. Fields a line carries besides its message (the access log's `requestId`,
  `status`...) become fields of the object; an exception is one string, `exception`.
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any, Final, Literal

LogFormat = Literal["text", "json"]
FORMATS: Final = ("text", "json")
TEXT_FORMAT: Final = "%(levelname)s %(name)s: %(message)s"

# What every LogRecord has; anything else on a record came from `extra=` and is a field.
_STANDARD: Final = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "color_message"}
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def config(level: str, log_format: LogFormat) -> dict[str, Any]:
    """The logging configuration (logging.config.dictConfig), for this process and for
    uvicorn to apply in each `--workers` process."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"} if log_format == "json" else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"ringlet": formatter},
        "handlers": {
            "ringlet": {
                "class": "logging.StreamHandler",
                "formatter": "ringlet",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["ringlet"], "level": level.upper()},
        # uvicorn's loggers, with handlers of their own by default, go to the root's; its access
        # log stays off (ringlet's own, --access-log, carries the request id).
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
            # Alembic's notes on each start ("Context impl SQLiteImpl.") only at debug.
            "alembic": {"level": "DEBUG" if level.lower() == "debug" else "WARNING"},
        },
    }


def configure(level: str, log_format: LogFormat) -> dict[str, Any]:
    """Apply `config(...)` here and return it (for uvicorn)."""
    chosen = config(level, log_format)
    logging.config.dictConfig(chosen)
    return chosen
