"""Real Chromium hall screens for the bench: `count` pages of /display/hall in one headless
Chromium (Debian's, driven by Playwright, as tests/e2e does). Each page records, when a
ticket number is first drawn (a counter card's or the recent list's `data-number`), the
wall-clock time `performance.timeOrigin + performance.now()`; the bench compares it with the
moment the clerk's call-next request was sent."""

from __future__ import annotations

from typing import Any

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

    def __init__(self, url: str, count: int) -> None:
        self.url, self.count = url, count
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
                context = self._browser.new_context(viewport={"width": 1920, "height": 1080})
                context.add_init_script(STAMP_DRAWN)
                page = context.new_page()
                page.goto(self.url + "/display/hall")
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
