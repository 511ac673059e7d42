"""The benchmark report: every bench module adds rows; ``make bench`` prints them and writes bench/results.md."""

import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Row:
    area: str
    figure: str
    value: float | str
    unit: str = ""
    target: str = ""
    passed: bool | None = None  # None: informational figure without a target


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    started: float = field(default_factory=time.time)

    def add(self, area, figure, value, unit="", target="", passed=None):
        row = Row(area, figure, round(value, 3) if isinstance(value, float) else value, unit, target, passed)
        self.rows.append(row)
        print(
            f"  {area}: {figure} = {row.value} {unit}" + (f" (target {target})" if target else ""), flush=True
        )
        return row

    def markdown(self) -> str:
        lines = [
            "# Benchmark results",
            "",
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}; run {time.strftime('%Y-%m-%d %H:%M', time.localtime(self.started))}.",
            "",
            "| area | figure | value | target | result |",
            "|---|---|---|---|---|",
        ]
        for r in self.rows:
            verdict = "" if r.passed is None else ("pass" if r.passed else "**FAIL**")
            lines.append(f"| {r.area} | {r.figure} | {r.value} {r.unit} | {r.target} | {verdict} |")
        return "\n".join(lines) + "\n"

    def write(self, path: Path) -> None:
        path.write_text(self.markdown())
