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

    def markdown(self, kept: list[str] = ()) -> str:
        """The table of this run's rows; ``kept``: table lines of other areas from an earlier run."""
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.started))
        areas = sorted({r.area for r in self.rows})
        run = (
            f"areas {', '.join(areas)} re-run {when}, the others from an earlier run"
            if kept
            else f"run {when}"
        )
        lines = [
            "# Benchmark results",
            "",
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}; {run}.",
            "",
            "| area | figure | value | target | result |",
            "|---|---|---|---|---|",
        ]
        rows = [*kept]
        for r in self.rows:
            verdict = "" if r.passed is None else ("pass" if r.passed else "**FAIL**")
            rows.append(f"| {r.area} | {r.figure} | {r.value} {r.unit} | {r.target} | {verdict} |")
        rows.sort(key=_area)  # stable: each area's rows keep their order
        return "\n".join([*lines, *rows]) + "\n"

    def write(self, path: Path, partial: bool = False) -> None:
        """Write the report; a ``partial`` run (some benchmarks only) keeps the other areas' rows in the file."""
        kept = []
        if partial and path.is_file():
            ran = {r.area for r in self.rows}
            table = [line for line in path.read_text().splitlines() if line.startswith("| ")][1:]
            kept = [line for line in table if _area(line) not in ran]
        path.write_text(self.markdown(kept))


def _area(line: str) -> str:
    return line.split("|")[1].strip()
