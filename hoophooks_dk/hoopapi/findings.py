"""What ``hookdk doctor`` reports: one ``Finding`` per fact, with its Hoop source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PROBLEM, WARNING, OK = "problem", "warning", "ok"


@dataclass(frozen=True)
class Finding:
    """One thing the doctor found, with the Hoop source that makes it so."""

    code: str
    level: str  # PROBLEM, WARNING or OK
    message: str
    hoop: str  # "path (function) @ commit"
    repository: str | None = None
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "level": self.level,
            "repository": self.repository,
            "message": self.message,
            "fix": self.fix,
            "hoop_source": self.hoop,
        }
