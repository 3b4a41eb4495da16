"""A day's artifact built from answer pages that arrive in any order, one spool file each.

historical-download.md "Chunking and the artifact": each page is decoded and
encoded into its own spool file as soon as it arrives (``pages.process_page``,
in a worker process when given an executor), so memory holds a few pages, never
the day; the spools are then concatenated in time order into the artifact,
which appears under its final name only when complete (``fsutil.atomic_write``).
A compressed artifact (``zstd``) is the same bytes as a stream of zstd frames:
header, then each page's spool, each compressed on its own (``pages.compress``).
Spools live in a private directory beside the artifact; one left by a killed
run is removed when the day is next attempted, and so is a half-written merge.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
import threading
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from swxsoc_reach.fsutil import atomic_write
from swxsoc_reach.paths import ARTIFACT_COMPRESSIONS, ARTIFACT_FORMATS
from swxsoc_reach.udl.chunks import Window
from swxsoc_reach.udl.csvrows import CsvColumns
from swxsoc_reach.udl.pages import PageJob, PageOutcome, compress, process_page


class DaySpool:
    """Spool files of one day's answer pages, merged in time order into the artifact."""

    def __init__(self, final: Path, output_format: str, decoders: Executor | None = None,
                 compression: str = "none") -> None:
        if output_format not in ARTIFACT_FORMATS:
            raise ValueError(f"output format {output_format!r} is not one of {ARTIFACT_FORMATS}")
        if compression not in ARTIFACT_COMPRESSIONS:
            raise ValueError(f"compression {compression!r} is not one of "
                             f"{ARTIFACT_COMPRESSIONS}")
        self.final = Path(final)
        self._format = output_format
        self._compression = compression
        self._decoders = decoders
        self._columns = CsvColumns()
        self._lock = threading.Lock()
        self._parts: dict[tuple[int, int], tuple[Path, int]] = {}  # -> (spool, columns)
        self._dir: Path | None = None

    def __enter__(self) -> DaySpool:
        self.final.parent.mkdir(parents=True, exist_ok=True)
        for stale in self.final.parent.glob(f".{self.final.name}.spool-*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a killed run of this day
        for stale in self.final.parent.glob(f".{self.final.name}.*.part"):
            stale.unlink(missing_ok=True)  # a merge killed part-way (fsutil.atomic_path)
        self._dir = Path(tempfile.mkdtemp(prefix=f".{self.final.name}.spool-",
                                          dir=self.final.parent))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def add_page(self, body: bytes, window: Window, index: int, page: int,
                 seen: frozenset[Any] = frozenset(), ids_from: int = 1) -> PageOutcome:
        """Spool page ``page`` of window number ``index`` (thread-safe); see ``PageJob``."""
        assert self._dir is not None, "DaySpool used outside its with block"
        path = self._dir / f"{index:06d}-{page:05d}"
        while True:
            names, nested = self._columns.snapshot()
            job = PageJob(window, path, self._format, seen, ids_from, names, nested,
                          self._compression)
            if self._decoders is None:
                outcome = process_page(body, job)
            else:
                outcome = self._decoders.submit(process_page, body, job).result()
            if not outcome.kept or self._format != "csv":
                break
            if self._columns.adopt(outcome.columns, outcome.nested):
                break
        if outcome.kept:
            with self._lock:
                self._parts[(index, page)] = (path, len(outcome.columns))
        return outcome

    def merge(self) -> int:
        """Write the artifact from the spools in time order; return its size in bytes."""
        with atomic_write(self.final) as out:

            def put(data: bytes) -> None:
                out.write(compress(data, self._compression))

            put(self._columns.header() if self._format == "csv" else b"[")
            width = len(self._columns.names)
            for number, key in enumerate(sorted(self._parts)):
                path, spool_width = self._parts[key]
                if self._format == "json" and number:
                    put(b",")
                if spool_width == width:
                    with open(path, "rb") as spool:
                        shutil.copyfileobj(spool, out, 1 << 20)
                else:
                    put(_pad_rows(self._read_spool(path), width - spool_width))
            if self._format == "json":
                put(b"]")
        return self.final.stat().st_size

    def _read_spool(self, path: Path) -> bytes:
        """A spool's text, decompressed (one page: a few MB)."""
        if self._compression == "none":
            return path.read_bytes()
        import pyarrow as pa  # only for compressed artifacts

        with pa.CompressedInputStream(pa.OSFile(os.fspath(path)), self._compression) as stream:
            return stream.read()


def _pad_rows(spool: bytes, missing: int) -> bytes:
    """CSV rows written before later windows added columns, with empty cells added."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    padding = [""] * missing
    for row in csv.reader(io.StringIO(spool.decode("utf-8"), newline="")):
        writer.writerow(row + padding)
    return buffer.getvalue().encode("utf-8")
