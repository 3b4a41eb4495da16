"""UDL answer pages built to cost the page decoder the most (issue 20's reproducers), for
the regression tests and ``benchmarks/page_decode.py``: records with tens of thousands of
keys, in reverse order, and a wide record followed by many tiny ones (the CSV blow-up)."""

from __future__ import annotations

OB_TIME = "2026-01-01T00:00:01.000Z"  # inside a window starting at 2026-01-01T00:00:00Z


def key_names(keys: int) -> tuple[str, ...]:
    """The keys ``wide_record`` gives, in their forward order."""
    return tuple(f"k{i:06d}" for i in range(keys))


def wide_record(keys: int, reverse: bool = False, ob_time: str = OB_TIME) -> bytes:
    """A record at ``ob_time`` with ``keys`` keys besides obTime (each 0), as JSON."""
    names = key_names(keys)[::-1] if reverse else key_names(keys)
    return (f'{{"obTime":"{ob_time}",'.encode() + ",".join(f'"{n}":0' for n in names).encode()
            + b"}")


def tiny_records(count: int, ob_time: str = OB_TIME) -> bytes:
    """``count`` records holding only obTime, each after a comma."""
    return (b',{"obTime":"' + ob_time.encode() + b'"}') * count


def blow_up_page(ob_time: str = OB_TIME) -> bytes:
    """One 65,000-key record and 500 tiny ones: 98 MB of CSV from 723 KB before issue 20."""
    return b"[" + wide_record(65000, ob_time=ob_time) + tiny_records(500, ob_time) + b"]"


def hostile_pages() -> list[tuple[str, bytes, tuple[str, ...]]]:
    """The issue's three shapes: name, body, the day's columns given with it."""
    return [
        ("65,000 keys, 1 record", b"[" + wide_record(65000) + b"]", ()),
        ("8 records, keys reversed",
         b"[" + b",".join([wide_record(65000, reverse=True)] * 8) + b"]",
         ("obTime", *key_names(65000))),
        ("blow-up: wide + 500 tiny", blow_up_page(), ()),
    ]
