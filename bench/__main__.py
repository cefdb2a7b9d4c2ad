"""The Yihao benchmark suite: starts the servers it needs, drives them from separate client
processes over loopback and prints one table (Markdown, as in docs/PERFORMANCE.md).

    python -m bench                       # everything (≈15 minutes on 2 cores)
    python -m bench --quick               # small counts, SQLite only, under a minute
    python -m bench --only issue --db sqlite
    python -m bench --only screen,phones --async-mode both
    python -m bench --only estimates      # wait-estimate accuracy on simulated days (≈5 min)
    python -m bench --only outside-estimates  # printed estimates vs real waits, live (≈6 min)
    python -m bench --only city --db postgres --processes 2   # 200 sites on one deployment
    python -m bench.city tick --db postgres                   # the publisher tick, 200 sites

Columns: SQLite ×1 process, PostgreSQL + Redis ×1 and ×2 processes, started as `python
run.py` comes (no mode option: gevent); plus, unless --async-mode says otherwise, SQLite ×1
under `--async-mode threading` for the cases that decided the mode (issue with 16 clients,
call → screen at 200 and 1,000 screens, phones).
Every run checks: no duplicate ticket number, no ticket called twice; a breach fails the run.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import shlex
import subprocess
import sys
import time
import traceback

from bench.deploy import CLIENT_CORE, DEFAULT_MODE, PIN_ENV, Setup
from bench.parts import FULL, PARTS, QUICK, Cells, InvariantBroken, Sizes

# The mode the figures chose (docs/PERFORMANCE.md, "Async mode").
CHOSEN_MODE = "gevent"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only",
        default=",".join(part for part in PARTS if part != "city"),
        help=f"comma-separated parts: {', '.join(PARTS)} (default all but city, which "
        "needs --db postgres --processes 2)",
    )
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgres", "all"),
        help="default all (with --quick: sqlite)",
    )
    parser.add_argument(
        "--processes", type=int, choices=(1, 2), help="PostgreSQL processes (default 1 and 2)"
    )
    parser.add_argument(
        "--async-mode",
        choices=("threading", "gevent", "both", DEFAULT_MODE),
        help="default: run.py with no mode option (as it comes, gevent), plus threading on "
        "SQLite for the deciding cases",
    )
    parser.add_argument("--quick", action="store_true", help="small counts, under a minute")
    parser.add_argument(
        "--browsers",
        type=int,
        help="Chromium hall screens during the largest screen level (default 20, --quick 2; "
        "0: none, the server's figures without browsers rendering on the same cores)",
    )
    parser.add_argument(
        "--screens",
        help="comma-separated screen levels of the screen part (default 10,200,1000; "
        "--quick 10,100), e.g. 10 to time the clerks' requests with almost no fan-out",
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="servers on core 0, the bench's clients (and Chromium) on core 1 (taskset-like)",
    )
    parser.add_argument(
        "--city-load",
        type=float,
        help="the city part's calls and tickets a second as a share of its own (default 1: "
        "40 calls/s, 100 tickets/s), e.g. 0.5 to see its latency with the servers below "
        "their cores",
    )
    return parser.parse_args(argv)


def plan(args: argparse.Namespace) -> list[tuple[Setup, list[str], bool]]:
    """(setup, parts, comparison only) per column."""
    parts = [part.strip() for part in args.only.split(",") if part.strip()]
    if args.db is None:
        args.db = "sqlite" if args.quick else "all"
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise SystemExit(f"unknown part(s): {', '.join(sorted(unknown))}")
    if args.async_mode in (None, DEFAULT_MODE):
        modes = [DEFAULT_MODE]
    elif args.async_mode == "both":
        modes = ["threading", "gevent"]
    else:
        modes = [args.async_mode]
    shapes: list[tuple[str, int]] = []
    if args.db in ("sqlite", "all") and args.processes in (None, 1):
        shapes.append(("sqlite", 1))
    if args.db in ("postgres", "all"):
        shapes += [("postgres", count) for count in (1, 2) if args.processes in (None, count)]
    columns = [(Setup(db, count, mode), parts, False) for mode in modes for db, count in shapes]
    # The estimates parts need no column's server: their figures are the same in every one.
    own = ("estimates", "outside-estimates")
    columns = [
        (setup, [part for part in chosen if part not in own or index == 0], comparison)
        for index, (setup, chosen, comparison) in enumerate(columns)
    ]
    if args.async_mode is None and not args.quick and ("sqlite", 1) in shapes:
        other = "threading" if CHOSEN_MODE == "gevent" else "gevent"
        deciding = [part for part in parts if part in ("issue", "screen", "phones")]
        if deciding:
            columns.append((Setup("sqlite", 1, other), deciding, True))
    return columns


def run_column(setup: Setup, parts: list[str], sizes: Sizes, comparison: bool) -> Cells:
    cells: Cells = {}
    for part in parts:
        started = time.perf_counter()
        print(f"… {setup.label}: {part}", file=sys.stderr, flush=True)
        try:
            if comparison and part == "issue":
                cells.update(PARTS["issue"](setup, sizes, (16,)))  # type: ignore[call-arg]
            elif comparison and part == "screen":
                levels = tuple(level for level in sizes.screens if level >= 100)
                cells.update(PARTS["screen"](setup, sizes, levels))  # type: ignore[call-arg]
            else:
                cells.update(PARTS[part](setup, sizes))
        except InvariantBroken as error:
            cells[f"{part}: FAILED"] = str(error)
        except Exception as error:  # one broken part must not lose the others' figures
            traceback.print_exc()
            cells[f"{part}: error"] = f"{type(error).__name__}: {error}"[:120]
        print(f"  done in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return cells


def machine() -> str:
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True, check=False).stdout
    total = next((line.split()[1] for line in memory.splitlines() if line.startswith("Mem:")), "?")
    return (
        f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), {total} RAM, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def table(columns: list[tuple[Setup, Cells]]) -> str:
    rows: list[str] = []
    for _, cells in columns:
        rows += [row for row in cells if row not in rows]
    order = {name: index for index, name in enumerate(PARTS)}

    def part_of(row: str) -> int:
        for prefix, part in (
            ("issue", "issue"),
            ("call-next", "calls"),
            ("calls", "calls"),
            ("call→", "screen"),
            ("screen", "screen"),
            ("estimates", "estimates"),
            ("outside estimates", "outside-estimates"),
            ("memory", "memory"),
            ("city", "city"),
        ):
            if row.startswith(prefix):
                return order[part]
        return order["phones"]

    rows.sort(key=part_of)  # stable: keeps each part's own order
    lines = [
        "| measure | " + " | ".join(setup.label for setup, _ in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for row in rows:
        lines.append(f"| {row} | " + " | ".join(cells.get(row, "–") for _, cells in columns) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.pin:  # every client process and browser forks from here and inherits core 1
        os.environ[PIN_ENV] = "1"
        os.sched_setaffinity(0, {CLIENT_CORE})
    sizes = QUICK if args.quick else FULL
    if args.browsers is not None:
        sizes = dataclasses.replace(sizes, browsers=args.browsers)
    if args.screens:
        levels = tuple(sorted(int(level) for level in args.screens.split(",")))
        sizes = dataclasses.replace(sizes, screens=levels)
    if args.city_load is not None:
        if args.city_load <= 0:
            raise SystemExit("--city-load must be above 0")
        sizes = dataclasses.replace(
            sizes,
            city_calls_per_s=sizes.city_calls_per_s * args.city_load,
            city_issue_per_s=sizes.city_issue_per_s * args.city_load,
        )
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    results = [
        (setup, run_column(setup, parts, sizes, comparison))
        for setup, parts, comparison in plan(args)
    ]
    command = "python -m bench " + " ".join(shlex.quote(arg) for arg in (argv or sys.argv[1:]))
    print(f"machine: {machine()}")
    print(
        f"load average (other work on the machine): {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after"
    )
    print(f"command: {command.strip()}  ({time.perf_counter() - started:.0f} s)")
    if args.pin:
        print("pinned: servers on core 0; clients, browsers and the bench on core 1")
    print()
    print(table(results))
    return 1 if broken_parts(results) else 0


def broken_parts(results: list[tuple[Setup, Cells]]) -> list[str]:
    """The rows of parts that failed a check or raised (`run_column`): a row named
    "…: error at issue" is a figure of the estimates, not a failure."""
    return [row for _, cells in results for row in cells if row.endswith((": FAILED", ": error"))]


if __name__ == "__main__":
    sys.exit(main())
