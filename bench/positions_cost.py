"""What the phones' places cost: `ticket_views` of a few tickets of a site, each place
counted in SQL (a COUNT statement a ticket) against the site's lines loaded whole (one
statement, every waiting step read and put in call order), by how many wait. The crossing
point sets `ROWS_PER_COUNT` (services/views.py): the publisher sends a site's phones their
places once a second, about ten tickets a site a process in the city part.

    python -m bench.positions_cost [--db sqlite|postgres|all] [--phones 10] [--rounds 200]"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from bench.request_cost import Hall, chosen_databases
from queue_server.services import views
from queue_server.services.unit_of_work import UnitOfWork

WAITING_LEVELS = (10, 50, 200, 1000)


def views_cost(hall: Hall, ticket_ids: list[str], whole: bool, rounds: int) -> dict[str, float]:
    """Median CPU ms and statements of one look at `ticket_ids`' views, the lines loaded
    whole (`whole`) or every place counted."""
    yihao = hall.app.extensions["yihao"]
    site = yihao.hall.config.sites[0]
    saved = views.ROWS_PER_COUNT
    views.ROWS_PER_COUNT = {dialect: 10**9 if whole else 0 for dialect in saved}

    def look(uow: UnitOfWork) -> Any:
        return views.ticket_views(uow, ticket_ids, views.HallState(uow))

    cpu = []
    try:
        with hall.app.app_context():
            places = yihao.read(site, look)
            hall.statements = 0
            for _ in range(rounds):
                started = time.process_time()
                assert yihao.read(site, look) == places
                cpu.append(time.process_time() - started)
    finally:
        views.ROWS_PER_COUNT = saved
    return {"cpu_ms": statistics.median(cpu) * 1000, "statements": hall.statements / rounds}


def measure(url: str, folder: Path, phones: int, rounds: int) -> list[tuple[int, dict, dict]]:
    hall = Hall(url, folder)
    hall.issue()
    hall.app.extensions["yihao"].hall.estimates.background = True
    rows = []
    waiting: list[str] = []
    for level in WAITING_LEVELS:
        while len(waiting) < level:
            answer = hall.client.post("/api/v1/tickets", json={"service": "employment"})
            waiting.append(answer.json["ticket"]["id"])
        asked = waiting[-phones:]  # the back of the line: the longest counts
        rows.append(
            (
                level,
                views_cost(hall, asked, whole=False, rounds=rounds),
                views_cost(hall, asked, whole=True, rounds=rounds),
            )
        )
    hall.app.extensions["yihao"].engine.dispose()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.positions_cost", description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgres", "all"), default="all")
    parser.add_argument("--phones", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args(argv)
    print(
        f"| database | waiting | {args.phones} places counted: CPU ms (statements) "
        "| lines loaded whole: CPU ms (statements) |"
    )
    print("|---|---|---|---|")
    for label, database, folder in chosen_databases(args.db):
        for level, counted, whole in measure(database, folder, args.phones, args.rounds):
            print(
                f"| {label} | {level} | {counted['cpu_ms']:.2f} ({counted['statements']:.0f}) "
                f"| {whole['cpu_ms']:.2f} ({whole['statements']:.0f}) |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
