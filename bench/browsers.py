"""Real Chromium hall screens for the bench: `count` pages of /display/hall in one headless
Chromium (Debian's, driven by Playwright, as tests/e2e does). Each page records, when a
ticket number is first drawn (a counter card's or the recent list's `data-number`), the
wall-clock time `performance.timeOrigin + performance.now()`; the bench compares it with the
moment the clerk's call-next request was sent.

Alone, as a command: what the pages themselves cost, with no bench screens beside them.

    python -m bench.browsers [--pages 20] [--calls-per-s 20] [--seconds 6] [--still|--floor]

starts `run.py` as it comes (SQLite), opens the pages, makes the calls and prints call →
drawn p50/p99 and the cores Chromium used (all its processes, from /proc) while idle and
during the calls. `--still` turns every CSS animation off (the notice's scroll, the flashes),
to tell the animations' cost from the rendering's. `--floor` opens bare pages instead, each
changing one small number at the call rate (no server): Chromium's own cost of a page that
redraws that often, which no hall screen can go below on these cores."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from bench.deploy import cpu_seconds_of
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

# Injected before the page's own scripts (Playwright's init scripts are not subject to the
# page's CSP). One observer per page; a number is stamped once, when it is first drawn.
STAMP_DRAWN = """
window.yihaoDrawn = {};
new MutationObserver((mutations) => {
  const at = performance.timeOrigin + performance.now();
  const stamp = (node) => {
    const number = node.getAttribute && node.getAttribute('data-number');
    if (number && !(number in window.yihaoDrawn)) window.yihaoDrawn[number] = at;
  };
  for (const mutation of mutations) {
    if (mutation.type === 'attributes') stamp(mutation.target);
    for (const node of mutation.addedNodes || []) {
      if (node.nodeType !== 1) continue;
      stamp(node);
      node.querySelectorAll('[data-number]').forEach(stamp);
    }
  }
}).observe(document, {subtree: true, childList: true, attributes: true,
                      attributeFilter: ['data-number']});
"""


class HallBrowsers:
    """`with HallBrowsers(url, 20) as browsers:` — pages open and synced on entry."""

    def __init__(self, url: str, count: int, style: str = "") -> None:
        self.url, self.count, self.style = url, count, style
        self._playwright: Any = None
        self._browser: Any = None
        self.pages: list[Any] = []

    def __enter__(self) -> HallBrowsers:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
            for _ in range(self.count):
                context = self._browser.new_context(
                    viewport={"width": 1920, "height": 1080}, bypass_csp=bool(self.style)
                )
                context.add_init_script(STAMP_DRAWN)
                page = context.new_page()
                page.goto(self.url + "/display/hall")
                if self.style:
                    page.add_style_tag(content=self.style)
                self.pages.append(page)
            for page in self.pages:
                page.wait_for_selector("body[data-synced='true']", timeout=60_000)
        except BaseException:
            self.__exit__()
            raise
        return self

    def reset(self) -> None:
        for page in self.pages:
            page.evaluate("() => { window.yihaoDrawn = {}; }")

    def drawn(self) -> list[dict[str, float]]:
        """Per page: number -> when it was drawn (epoch ms)."""
        return [page.evaluate("() => window.yihaoDrawn") for page in self.pages]

    def __exit__(self, *exc: object) -> None:
        if self._browser is not None:
            self._browser.close()
            self._browser = None
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None


STILL = "*, *::before, *::after { animation: none !important; transition: none !important; }"


def chromium_cpu_seconds() -> float:
    """CPU time used so far by every Chromium process on the machine (from /proc)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # gone meanwhile
        if "chrom" in text[text.index("(") + 1 : text.rindex(")")]:  # the command's name
            total += cpu_seconds_of(text)
    return total


def cores_over(seconds: float, during: Any = None) -> float:
    """Chromium's cores over `seconds` (or while `during()` runs, then `seconds` more)."""
    before, started = chromium_cpu_seconds(), time.perf_counter()
    if during is not None:
        during()
    time.sleep(seconds)
    return (chromium_cpu_seconds() - before) / (time.perf_counter() - started)


# Chromium's own floor: a bare page whose one number changes at the call rate, no server.
FLOOR_PAGE = """<!doctype html><html><body style="margin:0;background:#06122a;color:#fff;
font:64px sans-serif"><div style="height:120px">Yihao</div>
<div id="n" style="contain:strict;width:320px;height:90px">A001</div><script>
let n = 0; setInterval(() => { document.getElementById('n').textContent = 'A' + (++n); }, %d);
</script></body></html>"""


def floor(pages: int, changes_per_s: float, seconds: float) -> float:
    """Chromium's cores for `pages` bare 1920×1080 pages, each changing one small number
    `changes_per_s` times a second: what no hall page can cost less than here."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(pages):
                context = browser.new_context(viewport={"width": 1920, "height": 1080})
                context.new_page().set_content(FLOOR_PAGE % round(1000 / changes_per_s))
            time.sleep(2)
            return cores_over(seconds)
        finally:
            browser.close()


def main() -> None:
    from bench.deploy import DEFAULT_MODE, Deployment, Setup
    from bench.parts import FULL, browser_row, issue_tickets, paced_calls, sign_in

    parser = argparse.ArgumentParser(prog="python -m bench.browsers")
    parser.add_argument("--pages", type=int, default=FULL.browsers)
    parser.add_argument("--calls-per-s", type=float, default=FULL.calls_per_s)
    parser.add_argument("--seconds", type=float, default=FULL.screen_seconds)
    parser.add_argument("--still", action="store_true", help="every CSS animation off")
    parser.add_argument(
        "--floor", action="store_true", help="bare pages changing one number: Chromium's floor"
    )
    args = parser.parse_args()
    if args.floor:
        cores = floor(args.pages, args.calls_per_s, args.seconds)
        per_change = 1000 * cores / (args.pages * args.calls_per_s)
        print(
            f"{args.pages} bare pages, one number changed {args.calls_per_s:g} times a second "
            f"each: Chromium {cores:.2f} cores ({per_change:.2f} ms a page's change)"
        )
        return
    with Deployment(Setup("sqlite", 1, DEFAULT_MODE)) as deployment:
        issue_tickets(deployment.urls, round(args.calls_per_s * args.seconds) + 10)
        clerks = sign_in(deployment, 6)
        style = STILL if args.still else ""
        with HallBrowsers(deployment.urls[0], args.pages, style) as browsers:
            time.sleep(2)
            idle = cores_over(5)
            browsers.reset()
            wall: dict[str, float] = {}
            busy = cores_over(
                1.5, lambda: paced_calls(clerks, args.calls_per_s, args.seconds, wall)
            )
            row = browser_row(browsers, wall, 0)
    load = os.getloadavg()[0]
    print(
        f"{args.pages} Chromium hall screens{' (still)' if args.still else ''}, "
        f"{args.calls_per_s:g} calls/s for {args.seconds:g} s: call → drawn p50/p99 "
        f"{next(iter(row.values()))} ms; Chromium {idle:.2f} cores idle, {busy:.2f} during "
        f"the calls (load average {load:.1f} after)"
    )


if __name__ == "__main__":
    main()
