"""`bench.request_cost` in a process gevent patched first, as `python run.py` serves: the
same requests, with each database wait a greenlet's (psycopg waits on the hub's watchers,
green_postgres.py). `--psycopg-wait poll` keeps psycopg's own choice under gevent
(`wait_poll` through gevent's `select.poll`), the tree before run N, for comparison.

    python -m bench.request_cost_gevent [--psycopg-wait hub|poll] [request_cost's options]"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402

from bench import request_cost  # noqa: E402
from queue_server import green_postgres  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.request_cost_gevent")
    parser.add_argument("--psycopg-wait", choices=("hub", "poll"), default="hub")
    args, rest = parser.parse_known_args(argv)
    if args.psycopg_wait == "poll":
        green_postgres.install_if_gevent = lambda: False  # type: ignore[assignment]
    return request_cost.main(rest)


if __name__ == "__main__":
    raise SystemExit(main())
