"""Figures, the printed table and the JSON record."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Row:
    backend: str
    figure: str
    value: float | None  # None: not measured (see `note`)
    unit: str  # "ms", "rps", "s", "MB"
    ratio: float | None = None  # to the floor (or to the row's own reference, see target)
    target: str = ""
    met: bool | None = None  # None: no target, or not measured
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def status(self) -> str:
        if self.met is None:
            return "" if self.value is not None or not self.target else "n/a"
        return "met" if self.met else "MISSED"


def at_most(ratio: float, limit: float) -> bool:
    return not math.isnan(ratio) and ratio <= limit


def at_least(ratio: float, limit: float) -> bool:
    return not math.isnan(ratio) and ratio >= limit


def _value(row: Row) -> str:
    if row.value is None:
        return row.note or "n/a"
    if row.unit == "ms":
        return f"{row.value:.2f} ms"
    if row.unit == "rps":
        return f"{row.value:,.0f} rps"
    if row.unit == "s":
        return f"{row.value:.1f} s"
    if row.unit == "MB":
        return f"{row.value:.0f} MB"
    if row.unit == "KB/request":
        return f"{row.value:.2f} KB/req"
    return f"{row.value:g} {row.unit}"


def render(rows: list[Row]) -> str:
    header = ("backend", "figure", "value", "ratio", "target", "status", "notes")
    lines = [
        (
            r.backend,
            r.figure,
            _value(r),
            "" if r.ratio is None else f"{r.ratio:.2f}×",
            r.target,
            r.status(),
            r.note if r.value is not None else str(r.details.get("error", ""))[:100],
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    out = []
    for line in (header, tuple("-" * w for w in widths), *lines):
        cells = [cell.ljust(w) for cell, w in zip(line, widths, strict=True)]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def write_json(path: Path, meta: dict[str, Any], rows: list[Row]) -> None:
    def clean(value: Any) -> Any:
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    document = {**meta, "rows": [{**asdict(r), "status": r.status()} for r in rows]}
    path.write_text(json.dumps(clean(document), indent=2, default=str) + "\n")
