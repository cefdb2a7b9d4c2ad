"""What the kiosk's pickup look-up (出件) costs over years of visits waiting or collected.

    python -m bench.pickup_lookup [--visits 100000] [--runs 50] [--database URL]
        [--without-index]

Builds the demo hall on a fresh SQLite file (or the PostgreSQL database given, whose
`public` schema is wiped first), inserts `--visits` finished visits of distinct visitors
(ID cards; one in ten by phone only), each with a pickup day over the past year, every other
one collected since (its pickup ticket, `visit_of`, done), then times
`services.visits.pending_visit` — the query a pickup ticket runs to find the visit it
continues — for visitors with a visit not yet collected, picked at random, and prints its
median and p95. `--without-index` drops migration 0014's two indexes first, to compare.
PostgreSQL is ANALYZEd after the load (as autovacuum would); SQLite is not (the app never
runs ANALYZE on it).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from bench.report_year import reset
from queue_server import create_app
from queue_server.domain.identity import Identity
from queue_server.models import Ticket
from queue_server.services.visits import pending_visit

BATCH = 5000


def done_ticket(
    site_code: str, day: date, number: str, service: str = "social_insurance"
) -> dict[str, Any]:
    """A finished one-step ticket's row, issued at the start of `day`."""
    return {
        "id": uuid.uuid4().hex,
        "site_code": site_code,
        "business_day": day,
        "issue_queue": number[0],
        "number": number,
        "service_code": service,
        "party": "individual",
        "headcount": 1,
        "priority": "normal",
        "state": "done",
        "current_step": 1,
        "issued_at": datetime.combine(day, datetime.min.time(), UTC),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--database", help="a PostgreSQL URL (wiped); default a SQLite file")
    parser.add_argument("--without-index", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        if args.database:
            reset(args.database)
            url = args.database
        else:
            url = f"sqlite:///{Path(directory) / 'pickup.sqlite3'}"
        app = create_app(
            {
                "DATABASE_URL": url,
                "SECRET_KEY": "x" * 40,
                "TESTING": True,
                "INSTANCE_DIR": str(Path(directory) / "instance"),
            }
        )
        yihao = app.extensions["yihao"]
        site = yihao.hall.config.sites[0]
        pickup = next(s for s in site.services if s.category == "pickup")
        secret = yihao.hall.secret
        today = datetime.now(UTC).date()
        rng = random.Random(7)
        visitors: list[tuple[Identity | None, Identity | None]] = []
        rows: list[dict[str, Any]] = []
        for index in range(args.visits):
            identity = None if index % 10 == 0 else Identity("id_card", f"ID{index:016d}")
            phone = Identity("phone", f"139{index:08d}")
            keys = {
                "identity_hash": identity.keyed_hash(secret) if identity else None,
                "phone_hash": phone.keyed_hash(secret),
            }
            pickup_day = today - timedelta(days=rng.randint(1, 365))
            visit = done_ticket(site.code, pickup_day - timedelta(days=10), f"A{index:06d}")
            rows.append({**visit, **keys, "pickup_on": pickup_day, "visit_of": None})
            if index % 2:
                visitors.append((identity, phone))
            else:  # collected: its pickup ticket, on the pickup day
                collected = done_ticket(site.code, pickup_day, f"C{index:06d}", pickup.code)
                rows.append({**collected, **keys, "pickup_on": None, "visit_of": visit["id"]})
        engine = yihao.engine
        started = time.perf_counter()
        with engine.begin() as connection:
            for start in range(0, len(rows), BATCH):
                connection.execute(insert(Ticket), rows[start : start + BATCH])
            if args.without_index:
                connection.execute(text("DROP INDEX ix_tickets_pickup_identity"))
                connection.execute(text("DROP INDEX ix_tickets_pickup_phone"))
            if engine.dialect.name == "postgresql":
                connection.execute(text("ANALYZE"))
        took = time.perf_counter() - started
        print(f"{args.visits} visits and their pickups inserted in {took:.1f} s ({engine.name})")

        timings = []
        for _ in range(args.runs):
            identity, phone = visitors[rng.randrange(len(visitors))]
            started = time.perf_counter()
            found = yihao.read(site, pending_visit, pickup, identity, phone)
            timings.append((time.perf_counter() - started) * 1000)
            assert found is not None
        timings.sort()
        p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
        label = "without 0014's indexes" if args.without_index else "with 0014's indexes"
        print(
            f"pending_visit {label}: median {statistics.median(timings):.2f} ms, "
            f"p95 {p95:.2f} ms over {args.runs} look-ups"
        )


if __name__ == "__main__":
    main()
