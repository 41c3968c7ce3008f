"""National facts that recur across answers: one value, one effective date, one source.

Answers reference a fact as ``{fact.passport.fee_10y_58}``; next year's fee
change is one edit in ``faq/facts.yaml`` and every answer that quotes it follows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from faq.yamlio import FaqLoadError, line_of, read_yaml, strip_lines

FACTS_FILE = Path(__file__).resolve().parent / "facts.yaml"
FACT_PREFIX = "fact."


class Fact(BaseModel):
    """One national value as residents read it ("52,000원", "14일 이내")."""

    model_config = ConfigDict(extra="forbid")
    value: str = Field(min_length=1)
    # The day this value took effect (a fee that rose on 2026-03-01); shown as "2026년 3월 기준".
    effective: dt.date | None = None
    basis: str | None = None
    source: str = Field(pattern=r"^https?://")
    verified: dt.date
    note: str | None = None


@dataclass(frozen=True)
class FactsTable:
    path: Path
    facts: dict[str, Fact]  # "passport.fee_10y_58" -> Fact

    @classmethod
    def load(cls, path: Path = FACTS_FILE) -> FactsTable:
        if not path.exists():
            return cls(path, {})
        raw = read_yaml(path)
        if raw is None:
            return cls(path, {})
        if not isinstance(raw, dict):
            raise FaqLoadError(f"{path}:1: expected a mapping of fact groups")
        facts: dict[str, Fact] = {}
        problems: list[str] = []
        cls._collect(raw, "", path, facts, problems)
        if problems:
            raise FaqLoadError("\n".join(problems))
        return cls(path, facts)

    @classmethod
    def _collect(cls, node: dict[str, Any], prefix: str, path: Path, out: dict[str, Fact], problems: list[str]) -> None:
        for key, value in node.items():
            if key == "__line__":
                continue
            name = f"{prefix}{key}"
            if not isinstance(value, dict):
                line = node.get("__line__", "?")
                problems.append(f"{path}:{line}: {name}: expected a fact (value, source, verified) or a group")
                continue
            if "value" not in value:
                cls._collect(value, name + ".", path, out, problems)
                continue
            try:
                out[name] = Fact.model_validate(strip_lines(value))
            except ValidationError as exc:
                for err in exc.errors():
                    field = ".".join(str(p) for p in err["loc"])
                    problems.append(f"{path}:{line_of(value, err['loc']) or '?'}: {name}.{field}: {err['msg']}")

    def get(self, key: str) -> Fact | None:
        """``key`` as written in an answer, with or without the ``fact.`` prefix."""
        return self.facts.get(key.removeprefix(FACT_PREFIX))

    def flat(self) -> dict[str, str]:
        return {FACT_PREFIX + key: fact.value for key, fact in self.facts.items()}
