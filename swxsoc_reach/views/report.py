"""The campaign report: one self-contained HTML page a person opens, online or not.

``python -m swxsoc_reach report --telemetry-file ... -o campaign.html`` writes the
status summary, the coverage heat map (a PNG inlined as a ``data:`` URI), every
failure with its error and the command that retries it, throughput and ETA, the
disk the range uses and the product and software versions present. Nothing in
the page refers to anything outside it (no script, font, stylesheet or image
fetched), so it opens offline and can be mailed as one file.

With ``--figures-dir`` the coverage map and each day's quicklook are also written
there as PNG files, for ``snakemake --report`` (workflow rule ``campaign_report``).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import logging
import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from swxsoc_reach import __version__
from swxsoc_reach.fsutil import write_bytes_atomic
from swxsoc_reach.paths import QUICKLOOK_SUFFIX, SUMMARY_SUFFIX, cdf_data_version, find_about_file
from swxsoc_reach.views.eta import STAGES, duration, format_bytes
from swxsoc_reach.views.retry import RangePlaces, retry_command
from swxsoc_reach.views.status import DayState, StatusReport

logger = logging.getLogger(__name__)

COVERAGE_PNG = "coverage.png"
QUICKLOOK_DIR = "quicklooks"
_CDF_FILE = re.compile(r"^reach_.+_v\d+\.\d+\.\d+\.cdf$")
_STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; max-width: 1200px; }
table { border-collapse: collapse; margin: 0.5em 0 1.2em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.6em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 0.85em; background: #f3f3f3; padding: 0.1em 0.3em; word-break: break-all; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border: 1px solid #444;
          vertical-align: middle; margin-right: 0.4em; }
img { max-width: 100%; height: auto; }  /* no border: the box is the image */
"""


@dataclass(frozen=True)
class ReportRequest:
    """A validated ``report`` invocation."""

    output: Path
    level: str = "sensor"  # coverage rows: sensor or flavor
    figures_dir: Path | None = None  # also write coverage.png and quicklooks/ there


def write_report(report: StatusReport, request: ReportRequest) -> Path:
    """Draw the coverage map, build the page, write it (and the figures) atomically."""
    from swxsoc_reach.views import plots

    with tempfile.TemporaryDirectory(prefix="swxsoc_reach-report-") as tmp:
        png = Path(tmp) / COVERAGE_PNG
        plots.plot_status(report, png, request.level)
        image = png.read_bytes()
        if request.figures_dir is not None:
            write_figures(report, image, request.figures_dir)
    page = render_html(report, image)
    write_bytes_atomic(request.output, page.encode("utf-8"))
    return request.output


def write_figures(report: StatusReport, coverage_png: bytes, directory: Path) -> None:
    """``coverage.png`` and ``quicklooks/<cdf stem>.png`` of every CDF on disk in the range.

    A quicklook already drawn (``process --quicklook``, in the about tree or where an
    older version put it) is copied, not drawn again: drawing is ~1 s a day, copying is free.
    """
    from swxsoc_reach.views.quicklook import write_quicklook

    write_bytes_atomic(directory / COVERAGE_PNG, coverage_png)
    quicklooks = directory / QUICKLOOK_DIR
    quicklooks.mkdir(parents=True, exist_ok=True)
    for day in report.days:
        if not day.cdf_exists:
            continue
        cdf = Path(day.cdf_path)
        target = quicklooks / (cdf.stem + ".png")
        drawn = find_about_file(cdf, QUICKLOOK_SUFFIX)
        if drawn is not None and drawn.stat().st_mtime >= cdf.stat().st_mtime:
            with tempfile.NamedTemporaryFile(dir=quicklooks, prefix=".", suffix=".part",
                                             delete=False) as part:
                shutil.copyfile(drawn, part.name)
            os.replace(part.name, target)
        else:
            write_quicklook(cdf, target)


def render_html(report: StatusReport, coverage_png: bytes) -> str:
    """The whole page as one string (every value escaped; the image inline)."""
    summary = report.summary()
    first, last = summary["first_day"] or "-", summary["last_day"] or "-"
    title = f"REACH campaign {first} .. {last}"
    uri = "data:image/png;base64," + base64.b64encode(coverage_png).decode("ascii")
    sections = [
        f"<h1>{_e(title)}</h1>",
        f"<p>From <code>{_e(report.telemetry_file)}</code>, generated "
        f"{_e(dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC'))} by swxsoc_reach "
        f"{_e(__version__)}.</p>",
        _summary_section(report),
        '<section id="coverage"><h2>Coverage</h2>'
        "<p>One column per day, one row per sensor. A complete day is coloured by the share "
        "of its samples each sensor delivered; any other day by its state (legend).</p>"
        f'<img id="coverage-map" alt="coverage heat map: sensors by days" src="{uri}">'
        "</section>",
        _failures_section(report),
        _throughput_section(report),
        _disk_section(report),
        _versions_section(report),
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title>"
            '<link rel="icon" href="data:,">'  # no favicon request either
            f"<style>{_STYLE}</style></head><body>\n" + "\n".join(sections)
            + "\n</body></html>\n")


def _e(value: object) -> str:
    return html.escape(str(value))


def _table(head: list[str] | None, rows: list[list[str]], numeric: set[int] = frozenset()
           ) -> str:
    """A table (``head`` None: no header row); cells are HTML already (callers escape)."""
    header = "".join(f"<th>{h}</th>" for h in head) if head else ""
    body = "".join("<tr>" + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table>{f'<tr>{header}</tr>' if header else ''}{body}</table>"


def _summary_section(report: StatusReport) -> str:
    from swxsoc_reach.views.plots import STATE_COLORS

    states = report.states
    rows = [[f'<span class="swatch" style="background:{STATE_COLORS[state]}"></span>'
             f"{_e(state.value)}", str(states.get(state.value, 0))]
            for state in DayState if state is not DayState.COMPLETE]
    rows.insert(0, ['<span class="swatch" style="background:#fde725"></span>complete',
                    str(states.get(DayState.COMPLETE.value, 0))])
    mean = report.mean_availability_pct
    facts = [
        ["days", str(len(report.days))],
        ["records downloaded", f"{report.total_records:,}"],
        ["mean availability", "-" if mean is None else f"{mean:.2f} %"],
        ["progress", _e(report.progress.line().removeprefix("progress: "))],
    ]
    return ('<section id="summary"><h2>Summary</h2>'
            + _table(None, [[_e(k), v] for k, v in facts])
            + _table(["day state", "days"], rows, {1}) + "</section>")


def _failures_section(report: StatusReport) -> str:
    failed = report.failed
    if not failed:
        return '<section id="failures"><h2>Failures</h2><p>None.</p></section>'
    places = RangePlaces.of(report)
    rows = [[_e(d.day), _e(d.sensor_id), _e(d.error_stage), _e(d.error),
             f"<code>{_e(retry_command(d, places))}</code>"] for d in failed]
    return (f'<section id="failures"><h2>Failures ({len(failed)})</h2>'
            "<p>Fix the cause, then run the command beside each day.</p>"
            + _table(["day", "sensor", "stage", "error", "retry"], rows) + "</section>")


def _throughput_section(report: StatusReport) -> str:
    rates = report.progress.rates
    rows = []
    for stage in STAGES:
        days = sum(1 for d in report.days if getattr(d, f"{stage}_seconds"))
        total = report.total_seconds(stage)
        mean = getattr(rates, stage)
        rows.append([_e(stage), str(days), _e(duration(total)),
                     "-" if mean is None else f"{mean:.1f}",
                     "-" if not mean else f"{3600 / mean:.1f}"])
    seconds = report.total_seconds("download")
    speed = (f"{report.total_records / seconds:,.0f} records/s downloaded"
             if seconds else "no download measured")
    return ('<section id="throughput"><h2>Throughput and ETA</h2>'
            + _table(["stage", "days timed", "total", "s / day", "days / hour"], rows,
                     {1, 2, 3, 4})
            + f"<p>{_e(speed)}. {_e(report.progress.line())}</p></section>")


def _disk_section(report: StatusReport) -> str:
    sizes: Counter[str] = Counter()
    for day in report.days:
        sizes["artifacts"] += _size(day.csv_path)
        sizes["CDFs"] += _size(day.cdf_path)
        if day.cdf_path:
            sizes["product summaries"] += _size(find_about_file(day.cdf_path, SUMMARY_SUFFIX) or "")
    rows = [[_e(kind), format_bytes(sizes[kind])] for kind in ("artifacts", "CDFs",
                                                          "product summaries")]
    rows.append(["<b>total</b>", f"<b>{format_bytes(sum(sizes.values()))}</b>"])
    return ('<section id="disk"><h2>Disk used</h2>' + _table(["files", "size"], rows, {1})
            + "</section>")


def _size(path: str | Path) -> int:
    """Bytes of a file on disk; 0 when none is recorded or it is gone (the states say so)."""
    try:
        return os.stat(path).st_size if path else 0
    except OSError:
        return 0


def _versions_section(report: StatusReport) -> str:
    """Product versions of every CDF in the recorded CDFs' directories, and the software."""
    products: Counter[str] = Counter()
    seen: set[Path] = set()
    for day in report.days:
        if not day.cdf_path:
            continue
        directory = Path(day.cdf_path).parent
        if directory in seen or not directory.is_dir():
            continue
        seen.add(directory)
        for name in os.listdir(directory):
            version = cdf_data_version(name) if _CDF_FILE.match(name) else None
            if version:
                products[version] += 1
    software = Counter(p.software_version for p in report.products.values()
                       if p.software_version)
    rows = [[f"product v{_e(v)}", str(n)] for v, n in sorted(products.items())]
    rows += [[f"made by swxsoc_reach {_e(v)}", str(n)] for v, n in sorted(software.items())]
    return ('<section id="versions"><h2>Versions present</h2>'
            + _table(["version", "CDFs"], rows or [["none", "0"]], {1}) + "</section>")
