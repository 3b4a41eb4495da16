"""The campaign report on the real campaign: a self-contained page that a real headless
Chromium (installed from Debian, started here) opens with no console error and no
request beyond the file itself, showing the heat map."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from browser import (
    RecordingProxy,
    ensure_chromium,
    headless_chromium,
    is_browser_service,
    request_host,
)
from campaign_days import D6, D8, DAYS, Campaign

from swxsoc_reach.cli import main
from swxsoc_reach.views.retry import RangePlaces, retry_command
from swxsoc_reach.views.status import DayState, StatusQuery
from swxsoc_reach.views.statusbuild import build_report


@pytest.fixture(scope="module")
def page(campaign: Campaign, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the campaign, written by the CLI."""
    path = tmp_path_factory.mktemp("report") / "campaign.html"
    assert main(["report", *campaign.range_args(), "-o", str(path), "-q"]) == 0
    return path


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Chromium from Debian: installed here when missing (CI starts from a clean machine)."""
    return ensure_chromium()


def test_report_refers_to_nothing_outside_itself(page: Path) -> None:
    text = page.read_text()
    references = re.findall(r"""\b(?:src|href|action|poster|data)\s*=\s*["']([^"']*)""", text)
    assert references and all(ref.startswith("data:") for ref in references), references
    assert "<script" not in text and "@import" not in text and "url(" not in text
    assert not re.search(r"https?://", text)


def test_report_lists_each_failure_with_its_error_and_retry_command(campaign: Campaign,
                                                                    page: Path) -> None:
    import html

    report = build_report(StatusQuery(campaign.telemetry))
    failed = {d.day: d for d in report.failed}
    assert list(failed) == [D6]
    day = failed[D6]
    command = retry_command(day, RangePlaces.of(report))
    assert command.startswith("python -m swxsoc_reach download --output-dir ")
    assert f"--output-dir {campaign.raw}" in command and "--retry-failed" in command
    assert "--start-date 2026-03-06 --end-date 2026-03-06" in command
    text = html.unescape(page.read_text())
    assert command in text and day.error in text


def test_report_shows_versions_disk_and_progress(campaign: Campaign, page: Path) -> None:
    import html

    text = html.unescape(page.read_text())
    cdfs = sorted(campaign.out.rglob("*.cdf"))
    assert f"product v1.0.0</td><td class=\"n\">{len(cdfs)}</td>" in text
    in_range = StatusQuery(campaign.telemetry, start=DAYS[0], end=DAYS[-1])  # as the page's
    assert build_report(in_range).progress.line() in text
    for section in ("summary", "coverage", "failures", "throughput", "disk", "versions"):
        assert f'<section id="{section}">' in text
    assert campaign.cdf(D8).name not in [p.name for p in cdfs]  # the deleted one is not counted


@pytest.fixture(scope="module")
def browsed(page: Path, chromium: Path, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[dict]:
    """Open the page in headless Chromium: its events, the proxy's log and a screenshot."""
    proxy = RecordingProxy()
    try:
        with headless_chromium(tmp_path_factory.mktemp("chromium"), proxy) as devtools:
            for domain in ("Page", "Runtime", "Log", "Network"):
                devtools.call(f"{domain}.enable")
            devtools.call("Emulation.setDeviceMetricsOverride", width=1280, height=2400,
                          deviceScaleFactor=1, mobile=False)
            devtools.call("Page.navigate", url=page.as_uri())
            devtools.wait_for("Page.loadEventFired")
            box = devtools.call("Runtime.evaluate", returnByValue=True, expression=(
                "(() => { const i = document.getElementById('coverage-map');"
                " const r = i.getBoundingClientRect();"
                " return {x: r.x, y: r.y, w: r.width, h: r.height, natural: i.naturalWidth,"
                " complete: i.complete}; })()"))["result"]["value"]
            shot = devtools.call("Page.captureScreenshot", format="png")
            events = list(devtools.events)
    finally:
        proxy.close()
    return {"events": events, "proxy": proxy.requests, "box": box,
            "png": base64.b64decode(shot["data"])}


def test_report_opens_in_chromium_without_console_errors(browsed: dict) -> None:
    methods = [e["method"] for e in browsed["events"]]
    assert "Page.loadEventFired" in methods
    assert "Runtime.exceptionThrown" not in methods
    logged = [e["params"]["entry"] for e in browsed["events"] if e["method"] == "Log.entryAdded"]
    assert [entry for entry in logged if entry["level"] in ("error", "warning")] == []
    console = [e["params"] for e in browsed["events"] if e["method"] == "Runtime.consoleAPICalled"]
    assert [c for c in console if c["type"] in ("error", "warning", "assert")] == []


def test_report_makes_no_request_beyond_the_file(browsed: dict, page: Path) -> None:
    urls = [e["params"]["request"]["url"] for e in browsed["events"]
            if e["method"] == "Network.requestWillBeSent"]
    assert page.as_uri() in urls
    assert [u for u in urls if not (u == page.as_uri() or u.startswith("data:"))] == []
    # at the network edge: only Chromium's own services (the page names no host at all:
    # test_report_refers_to_nothing_outside_itself)
    assert [r for r in browsed["proxy"] if not is_browser_service(request_host(r))] == []


def test_report_screenshot_shows_the_heat_map(browsed: dict) -> None:
    from matplotlib.colors import to_rgba
    from matplotlib.image import imread

    from swxsoc_reach.views.plots import STATE_COLORS, STATUS_SIZE_IN

    box = browsed["box"]
    assert box["complete"] and box["natural"] == int(STATUS_SIZE_IN[0] * 100)
    pixels = np.round(imread(io.BytesIO(browsed["png"]))[..., :3] * 255).astype(int)
    x, y, w, h = (int(box[k]) for k in ("x", "y", "w", "h"))
    assert w == box["natural"]  # drawn at its own size: colours are not resampled
    image = pixels[y:y + h, x:x + w]
    for state in (DayState.FAILED, DayState.NO_DATA, DayState.INTERRUPTED,
                  DayState.PRODUCT_MISSING, DayState.NO_INPUT, DayState.AWAITING):
        color = np.round(np.array(to_rgba(STATE_COLORS[state])[:3]) * 255).astype(int)
        matching = np.count_nonzero((np.abs(image - color) <= 2).all(axis=-1))
        assert matching > 5_000, (state, matching)  # a whole column of the map (~50 x 390 px)
