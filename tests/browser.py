"""Look at a local HTML file the way a person would: in real headless Chromium, driven by Playwright.

The system Chromium (Debian package ``chromium``) is used, never a browser downloaded by
``playwright install``. Tests never skip for a missing browser: CI installs it (`.ci/run`), and
:func:`view_page` fails with the install hint when it is absent.

Network requests (http, https, ws, wss) are blocked, so a page that is not self-contained shows up
in :attr:`PageView.console_errors` rather than quietly fetching something.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Flags from the machine notes. Playwright adds --headless (and, by default, --no-sandbox) itself;
# --user-data-dir is given through launch_persistent_context, which refuses it in `args`.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

INSTALL_HINT = "install it with `apt-get install -y chromium` (Debian/Ubuntu) and `pip install playwright`"

_NETWORK_SCHEMES = ("http:", "https:", "ws:", "wss:")

_AUDIO_READY = "() => Array.from(document.querySelectorAll('audio')).every(a => a.readyState >= 1 || a.error)"

# Before the snapshot: which <details> were closed on load, then open them all (as a reader clicking each
# summary would), so innerText holds what they hide.
_OPEN_DETAILS = """() => Array.from(document.querySelectorAll('details')).map(d => {
    const closed = !d.open; d.open = true;
    return closed ? d.querySelector('summary').innerText : null;
}).filter(s => s !== null)"""

_SNAPSHOT = """() => ({
    images: Array.from(document.querySelectorAll('img')).map(i => ({
        alt: i.alt, loaded: i.complete && i.naturalWidth > 0})),
    cards: Array.from(document.querySelectorAll('.card')).map(c => ({
        target: c.dataset.target,
        values: Object.fromEntries(Array.from(c.querySelectorAll('[data-key]')).map(
            e => [e.dataset.key, {value: e.dataset.value, text: e.innerText}]))})),
    tables: Array.from(document.querySelectorAll('table')).map(t =>
        Array.from(t.rows).map(r => Array.from(r.cells).map(c => c.innerText))),
    audio: Array.from(document.querySelectorAll('audio')).map(a => ({
        duration: a.readyState >= 1 ? a.duration : NaN,
        error: a.error
            ? `audio ${a.currentSrc.slice(0, 40) || '(no src)'}: MediaError ${a.error.code} ${a.error.message}`
            : null,
    })),
    text: document.body ? document.body.innerText : '',
    scripts: document.querySelectorAll('script').length,
})"""


@dataclass
class PageView:
    """What Chromium made of a page."""

    console_errors: list[str]
    """Console messages of type error, uncaught page errors, failed requests and audio elements in error."""
    tables: list[list[list[str]]]
    """Every ``<table>`` in document order: its rows, each a list of cell texts (th and td), whitespace-normalised."""
    audio_durations: list[float]
    """Duration in seconds of every ``<audio>`` once its metadata loaded; NaN if it never loaded."""
    text: str
    """``document.body.innerText``."""
    script_count: int
    """Number of ``<script>`` elements in the DOM (a report has none, so this proves escaping)."""
    images: list[tuple[str, bool]]
    """Every ``<img>``: its alt text and whether it decoded (complete, natural width > 0)."""
    cards: dict[str, dict[str, tuple[str, str]]]
    """The top cards (``.card``) by target: {data-key: (data-value, shown text)}."""
    closed_details: list[str]
    """The summaries of the ``<details>`` that were closed on load (they are opened for ``text`` and ``tables``)."""


def _normalise(text: str) -> str:
    return " ".join(text.split())


def view_page(path: Path, timeout_s: float = 30, screenshot: Path | None = None) -> PageView:
    """Open ``path`` (a local HTML file) in headless Chromium and report what it shows.

    With ``screenshot``, a PNG of the top of the page (1200 x 900 CSS pixels, as loaded) is saved there.

    Waits for the page's load event, then until every ``<audio>`` has its metadata (readyState >= 1)
    or is in error, or until ``timeout_s`` from the start has passed; audio still without metadata
    then has a NaN duration. Raises RuntimeError when Chromium or Playwright is missing, and
    FileNotFoundError when ``path`` does not exist.
    """
    executable = shutil.which("chromium")
    if executable is None:
        raise RuntimeError(f"`chromium` is not on PATH; {INSTALL_HINT}")
    try:
        from playwright.sync_api import ConsoleMessage, Request, sync_playwright
        from playwright.sync_api import TimeoutError as PlaywrightTimeout
    except ImportError as error:
        raise RuntimeError(f"the `playwright` package is not installed; {INSTALL_HINT}") from error
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(path)

    deadline = time.monotonic() + timeout_s

    def remaining_ms() -> float:
        return max(1.0, (deadline - time.monotonic()) * 1000)

    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text}")

    def on_page_error(error: Exception) -> None:
        errors.append(f"page error: {error}")

    def on_request_failed(request: Request) -> None:
        errors.append(f"request failed: {request.url[:200]} ({request.failure})")

    with tempfile.TemporaryDirectory(prefix="freqrex-chromium-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=executable, headless=True, args=CHROMIUM_ARGS, timeout=remaining_ms(),
        )
        try:
            context.route(lambda url: url.startswith(_NETWORK_SCHEMES), lambda route: route.abort("blockedbyclient"))
            page = context.pages[0] if context.pages else context.new_page()
            page.set_viewport_size({"width": 1200, "height": 900})
            page.on("console", on_console)
            page.on("pageerror", on_page_error)
            page.on("requestfailed", on_request_failed)
            page.goto(path.as_uri(), wait_until="load", timeout=remaining_ms())
            try:
                page.wait_for_function(_AUDIO_READY, timeout=remaining_ms())
            except PlaywrightTimeout:  # report what loaded, NaN for the rest
                pass
            if screenshot is not None:
                page.screenshot(path=str(screenshot))
            closed = page.evaluate(_OPEN_DETAILS)
            snapshot = page.evaluate(_SNAPSHOT)
        finally:
            context.close()

    errors.extend(audio["error"] for audio in snapshot["audio"] if audio["error"])
    durations = [float(audio["duration"]) if audio["duration"] is not None else math.nan for audio in snapshot["audio"]]
    return PageView(
        console_errors=errors,
        tables=[[[_normalise(cell) for cell in row] for row in table] for table in snapshot["tables"]],
        audio_durations=durations,
        text=snapshot["text"],
        script_count=int(snapshot["scripts"]),
        images=[(image["alt"], bool(image["loaded"])) for image in snapshot["images"]],
        cards={card["target"]: {key: (v["value"], _normalise(v["text"])) for key, v in card["values"].items()}
               for card in snapshot["cards"]},
        closed_details=[_normalise(summary) for summary in closed],
    )
