"""Run benchmarks: ``python -m bench`` (all) or ``python -m bench platform extraction`` (by module suffix).

Each module ``bench/bench_<name>.py`` defines ``run(report)``. Results: a table on stdout and bench/results.md
(a partial run replaces only the rows of the areas it ran).
"""

import importlib
import pkgutil
import sys
import traceback
from pathlib import Path

from bench.report import Report

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = sorted(
        m.name[len("bench_") :] for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_")
    )
    wanted = argv or names
    unknown = set(wanted) - set(names)
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}; available: {', '.join(names)}")
        return 2
    report, failed = Report(), []
    for name in wanted:
        print(f"== {name}", flush=True)
        try:
            importlib.import_module(f"bench.bench_{name}").run(report)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            report.add(name, "benchmark run", "error", passed=False)
    print()
    print(report.markdown())
    report.write(HERE / "results.md", partial=set(wanted) != set(names))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
