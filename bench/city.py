"""A city's halls on one deployment: the hall file of `sites` sites, and the publisher
tick's cost with that many sites (in process, no server).

    python -m bench.city tick --db sqlite        # the publisher loop's per-tick work
    python -m bench.city tick --db postgres
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from tests.live_server import ROOT

CITY_SITES = 200


def site_code(index: int) -> str:
    return f"s{index:03d}"


def clerk_name(index: int) -> str:
    return f"c{index:03d}"


def line_prefix(index: int) -> str:
    """Line A's prefix at site `index` (AA, AB, …): ticket numbers differ between sites, so a
    screen that received another site's call is seen."""
    return chr(65 + (index - 1) // 26) + chr(65 + (index - 1) % 26)


def write_city_hall(path: Path, sites: int = CITY_SITES) -> Path:
    """`sites` copies of the demo hall's site (s001 …), each with one clerk (c001 …) for its
    counter 1 ([A, B]), sharing the demo's password hash ('demo'); line A is numbered with
    the site's own prefix (`line_prefix`)."""
    hall: dict[str, Any] = yaml.safe_load((ROOT / "config" / "demo-hall.yaml").read_text("utf-8"))
    template = hall["sites"][0]
    clerk = next(user for user in hall["users"] if user["role"] == "clerk")
    hall["sites"], users = [], []
    for index in range(1, sites + 1):
        site = copy.deepcopy(template)
        site["code"], site["name"] = site_code(index), f"第{index}号人社服务大厅"
        site.pop("name_en", None)
        site["queues"][0]["prefix"] = line_prefix(index)
        hall["sites"].append(site)
        users.append(
            {
                "username": clerk_name(index),
                "name": f"职员{index:03d}",
                "role": "clerk",
                "site": site_code(index),
                "clerk_no": f"C{index:04d}",
                "counter": 1,
                "counters": [1],
                "password_hash": clerk["password_hash"],
            }
        )
    hall["users"] = users + [user for user in hall["users"] if user["role"] != "clerk"]
    path.write_text(yaml.safe_dump(hall, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def measure_tick(database_url: str, sites: int, ticks: int = 40) -> dict[str, float]:
    """The publisher's `refresh_estimates` with nothing changed (the loop's idle tick, 4×/s
    by default): ms and SQL statements per tick."""
    from sqlalchemy import event

    from queue_server import create_app

    with tempfile.TemporaryDirectory(prefix="yihao-city-") as scratch:
        hall = write_city_hall(Path(scratch) / "city.yaml", sites)
        app = create_app({"CONFIG": str(hall), "DATABASE_URL": database_url, "SECRET_KEY": "bench"})
        yihao = app.extensions["yihao"]
        statements = 0

        def count(*_: Any) -> None:
            nonlocal statements
            statements += 1

        event.listen(yihao.engine, "before_cursor_execute", count)
        publisher = yihao.publisher
        publisher.refresh_estimates()  # every board made once
        statements = 0
        started = time.perf_counter()
        for _ in range(ticks):
            publisher.refresh_estimates()
        seconds = time.perf_counter() - started
        yihao.engine.dispose()
    return {"ms_per_tick": seconds / ticks * 1000, "statements_per_tick": statements / ticks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.city", description=__doc__)
    parser.add_argument("what", choices=("tick",))
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--sites", type=int, default=CITY_SITES)
    args = parser.parse_args(argv)
    from bench.deploy import POSTGRES_URL, reset_postgres

    with tempfile.TemporaryDirectory(prefix="yihao-city-db-") as scratch:
        if args.db == "postgres":
            reset_postgres()
            url = POSTGRES_URL
        else:
            url = f"sqlite:///{Path(scratch) / 'city.sqlite3'}"
        result = measure_tick(url, args.sites)
    print(
        f"publisher tick, {args.sites} sites, {args.db}: {result['ms_per_tick']:.1f} ms, "
        f"{result['statements_per_tick']:.0f} SQL statements"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
