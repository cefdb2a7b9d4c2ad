"""The print agent of a kiosk PC with its own printer.

    python -m ticket_printer.agent --server http://192.168.1.10:5000 --kiosk K2 \\
        --printer usb://0416:5011 [--token T | env YIHAO_KIOSK_TOKEN] [--site main]

It connects to the server's `/kiosk` Socket.IO namespace with the kiosk's `agent_token`
from the hall file, renders every `job` it receives (the server sends what the ticket says
and the kiosk's layout), asks the printer's status, prints, and acknowledges. It reconnects
by itself; a job the server sends again (not acknowledged before a disconnect) is printed
once: the agent remembers the job ids it has printed and only acknowledges them again.
"""

from __future__ import annotations

import argparse
import logging
import os
import queue
import signal
import sys
import threading
from collections import OrderedDict
from typing import Any

import socketio  # type: ignore[import-untyped]

from queue_server.protocol import (
    AUTH_KIOSK,
    AUTH_TOKEN,
    EVENT_ACK,
    EVENT_FAILED,
    EVENT_JOB,
    JOB_ID,
    JOB_LAYOUT,
    JOB_NUMBER,
    JOB_VIEW,
    KIOSK_NAMESPACE,
    REPLY_ERROR,
    REPLY_FAULT,
    REPLY_JOB,
    SITE_QUERY,
    TRANSPORTS,
)
from ticket_printer.drivers import PrinterDriver, PrinterError, open_printer
from ticket_printer.output import print_ticket
from ticket_printer.render import TicketLayout

log = logging.getLogger("ticket_printer.agent")
REMEMBERED_JOBS = 1000


class PrintAgent:
    def __init__(self, server: str, kiosk: str, token: str, driver: PrinterDriver, site: str = ""):
        self.server = server.rstrip("/")
        self.kiosk = kiosk
        self.token = token
        self.site = site
        self.driver = driver
        self.printed: OrderedDict[int, None] = OrderedDict()  # job ids already on paper
        self.jobs: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.client = socketio.Client(
            reconnection=True, reconnection_delay=0.5, reconnection_delay_max=5
        )
        self.client.on(EVENT_JOB, self._received, namespace=KIOSK_NAMESPACE)
        self.client.on("connect", self._connected, namespace=KIOSK_NAMESPACE)
        self.client.on("disconnect", self._disconnected, namespace=KIOSK_NAMESPACE)
        self.connected = threading.Event()
        self._printer_thread = threading.Thread(target=self._print_loop, daemon=True)

    # -- connection ----------------------------------------------------------------------
    def start(self) -> None:
        self._printer_thread.start()
        url = self.server + (f"?{SITE_QUERY}={self.site}" if self.site else "")
        self.client.connect(
            url,
            namespaces=[KIOSK_NAMESPACE],
            auth={AUTH_KIOSK: self.kiosk, AUTH_TOKEN: self.token},
            transports=list(TRANSPORTS),
            retry=True,  # keep trying while the server is down at start
        )

    def run_forever(self) -> None:
        self.start()
        self.client.wait()

    def stop(self) -> None:
        self.jobs.put(None)
        self.client.disconnect()
        self._printer_thread.join(timeout=10)
        self.driver.close()

    def _connected(self) -> None:
        log.info("connected to %s as kiosk %s", self.server, self.kiosk)
        self.connected.set()

    def _disconnected(self, reason: Any = None) -> None:
        log.warning("disconnected from %s (%s); reconnecting", self.server, reason)
        self.connected.clear()

    def _received(self, job: dict[str, Any]) -> None:
        self.jobs.put(job)  # printing may take seconds: never block the socket's thread

    # -- printing ------------------------------------------------------------------------
    def _print_loop(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            try:
                self.handle(job)
            except Exception:
                log.exception("job %s could not be handled", job.get(JOB_ID))

    def handle(self, job: dict[str, Any]) -> None:
        job_id = int(job[JOB_ID])
        if job_id not in self.printed:
            problem = self._print(job)
            if problem is not None:
                error, fault = problem
                log.warning("job %s (%s) not printed: %s", job_id, job.get(JOB_NUMBER), error)
                self._send(
                    EVENT_FAILED, {REPLY_JOB: job_id, REPLY_ERROR: error, REPLY_FAULT: fault}
                )
                return
            self.printed[job_id] = None
            while len(self.printed) > REMEMBERED_JOBS:
                self.printed.popitem(last=False)
            log.info("printed %s (job %s)", job.get(JOB_NUMBER), job_id)
        self._send(EVENT_ACK, {REPLY_JOB: job_id})

    def _print(self, job: dict[str, Any]) -> tuple[str, bool] | None:
        layout = job.get(JOB_LAYOUT) or {}
        return print_ticket(
            self.driver,
            job[JOB_VIEW],
            TicketLayout(
                width_mm=layout.get("paper_mm", 80),
                chinese_mode=layout.get("chinese", "gb18030"),
                qr=layout.get("qr", "native"),
            ),
        )

    def _send(self, name: str, payload: dict[str, Any]) -> None:
        # Jobs may arrive before the namespace's connect is complete: answer once it is.
        self.connected.wait(timeout=5)
        try:
            self.client.emit(name, payload, namespace=KIOSK_NAMESPACE)
        except socketio.exceptions.SocketIOError:
            # Not connected: the server sends the job again after the reconnect, and a
            # printed one is only acknowledged then.
            log.warning("could not report job %s; it comes back after reconnecting", payload)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ticket_printer.agent", description="Yihao (一号) kiosk print agent"
    )
    parser.add_argument("--server", required=True, help="e.g. http://192.168.1.10:5000")
    parser.add_argument("--kiosk", required=True, help="the kiosk code in the hall file, e.g. K2")
    parser.add_argument(
        "--printer",
        default="dummy://",
        help="tcp://HOST:9100, usb://VID:PID, serial:///dev/ttyUSB0?baudrate=9600, "
        "file:///dev/usb/lp0 or dummy:// (default)",
    )
    parser.add_argument("--token", help="the kiosk's agent_token (env YIHAO_KIOSK_TOKEN)")
    parser.add_argument("--site", default="", help="site code (default: the server's first)")
    parser.add_argument("--timeout", type=float, default=3.0, help="printer timeout in seconds")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    token = args.token or os.environ.get("YIHAO_KIOSK_TOKEN")
    if not token:
        print("yihao agent: give --token or set YIHAO_KIOSK_TOKEN", file=sys.stderr)
        return 2
    try:
        driver = open_printer(args.printer, timeout=args.timeout)
    except (ValueError, PrinterError) as error:
        print(f"yihao agent: {error}", file=sys.stderr)
        return 2
    agent = PrintAgent(args.server, args.kiosk, token, driver, site=args.site)
    signal.signal(signal.SIGTERM, lambda *_: agent.client.disconnect())
    try:
        agent.run_forever()
    except KeyboardInterrupt:
        pass
    except socketio.exceptions.ConnectionError as error:
        print(f"yihao agent: cannot connect to {args.server}: {error}", file=sys.stderr)
        return 1
    finally:
        agent.jobs.put(None)
        driver.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
