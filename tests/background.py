"""Commands that stay up (the sandbox), as tests start them (on sys.path via ``pythonpath``).

``read_until_ready`` reads a child's stdout lines until its ready line, under a
deadline, on a thread: a buffered reader holds several lines at once, so waiting
on the pipe itself (select) could sleep while the ready line sits in the buffer.
``paste`` applies the ``unset``/``export`` lines to an environment, as a shell does
when an operator pastes them.
"""

from __future__ import annotations

import shlex
import subprocess
import threading
from collections.abc import Mapping


def read_until_ready(process: subprocess.Popen[str], ready: str, timeout_s: float) -> list[str]:
    """The lines ``process`` printed up to and including the one starting with ``ready``."""
    assert process.stdout is not None
    lines: list[str] = []
    finished = threading.Event()

    def pump() -> None:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith(ready):
                break
        finished.set()

    threading.Thread(target=pump, daemon=True, name="ready-reader").start()
    assert finished.wait(timeout_s), f"not ready within {timeout_s} s; it printed {lines}"
    assert lines and lines[-1].startswith(ready), f"it ended before it was ready: {lines}"
    return lines


def paste(lines: list[str], env: Mapping[str, str]) -> dict[str, str]:
    """What a shell's environment becomes after the ``unset``/``export`` lines among ``lines``."""
    pasted = dict(env)
    for line in lines:
        words = shlex.split(line, comments=True)
        if words[:1] == ["unset"]:
            for name in words[1:]:
                pasted.pop(name, None)
        elif words[:1] == ["export"]:
            name, _, value = words[1].partition("=")
            pasted[name] = value
    return pasted
