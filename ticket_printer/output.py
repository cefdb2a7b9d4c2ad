"""Putting one ticket on paper: render, ask the printer, send. Shared by the server's print
worker and the kiosk PC's print agent."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ticket_printer.drivers import PrinterDriver, PrinterError
from ticket_printer.render import TicketLayout, TicketView, render_ticket

log = logging.getLogger(__name__)


def print_ticket(
    driver: PrinterDriver, view: Mapping[str, Any], layout: TicketLayout
) -> tuple[str, bool] | None:
    """None when printed; else (why, whether the printer itself reported a fault). A printer
    that reports paper out or cover open gets nothing: it would print the ticket later, for
    whoever stands there then."""
    try:
        data = render_ticket(TicketView(**view), layout)
        status = driver.status()
        if status.state == "error":
            return status.error or "printer error", True
        driver.send(data)
    except PrinterError as error:
        return error.reason, False
    except Exception as error:  # a bad font or view must not stop the printer's queue
        log.exception("a ticket could not be rendered for %s", driver.url)
        return f"{type(error).__name__}: {error}", False
    return None
