"""What building an app costs a test: copy of a migrated SQLite template + create_app with the
demo hall parsed once (as tests/conftest.py does), against a fresh file migrated from empty.

python -m bench.app_build [--runs 15]
"""

from __future__ import annotations

import argparse
import copy
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from queue_server import create_app, migrations
from queue_server.config import DEFAULT_HALL_FILE, parse_hall
from queue_server.db import make_engine


def _median_ms(runs: int, build: Callable[[Path], None]) -> float:
    timings = []
    for _ in range(runs):
        folder = Path(tempfile.mkdtemp(prefix="yihao-bench-"))
        started = time.perf_counter()
        build(folder)
        timings.append(time.perf_counter() - started)
        shutil.rmtree(folder, ignore_errors=True)
    return statistics.median(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.app_build")
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    template = Path(tempfile.mkdtemp(prefix="yihao-template-")) / "template.sqlite3"
    engine = make_engine(f"sqlite:///{template}")
    with engine.connect() as connection:
        migrations.upgrade(connection, "head")
    engine.dispose()
    hall_data = yaml.safe_load(DEFAULT_HALL_FILE.read_text(encoding="utf-8"))

    def settings(folder: Path) -> dict[str, object]:
        return {
            "DATABASE_URL": f"sqlite:///{folder / 'y.sqlite3'}",
            "SECRET_KEY": "x" * 40,
            "TESTING": True,
            "INSTANCE_DIR": str(folder / "instance"),
        }

    def from_empty(folder: Path) -> None:
        app = create_app(settings(folder))
        app.extensions["yihao"].engine.dispose()

    def from_template(folder: Path) -> None:
        shutil.copyfile(template, folder / "y.sqlite3")
        hall = parse_hall(copy.deepcopy(hall_data))
        app = create_app({**settings(folder), "HALL": hall})
        app.extensions["yihao"].engine.dispose()

    empty_ms = _median_ms(runs, from_empty)
    template_ms = _median_ms(runs, from_template)
    print(f"app from an empty SQLite file (every migration):   {empty_ms:6.1f} ms")
    print(f"app from the migrated template (as the tests do):  {template_ms:6.1f} ms")


if __name__ == "__main__":
    main()
