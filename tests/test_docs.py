"""Every command in the docs runs, so the docs cannot rot.

Each ```shell block of docs/*.md and README.md is run by bash in a fresh directory
holding what a clone holds (Snakefile, config/, workflow/, profiles/, sample/), with
UDL pointed at a local UDL server (``UDL_BASE_URL``, ``BASICAUTH``) and AWS at a moto
server holding the bucket the docs use. Blocks of one page share the directory, in
order; ``<!-- docs-test: after X.md -->`` runs page X first. A block after
``<!-- docs-test: background ... -->`` starts a server that stays up (the sandbox): it
runs in the background until it prints its ready line, the shell lines it printed
(``export``/``unset``) hold for the rest of the page, and when the test ends it gets
SIGINT (Ctrl-C) and must stop with exit 0, no traceback, no process left behind. A
block whose lines start with ``$ `` is a transcript: each command runs and the lines
under it must appear in its output (``...`` matches any text). A block after
``<!-- not-run: reason -->`` is not run, but its ``python -m swxsoc_reach`` commands must
parse. ```text blocks of troubleshooting.md quote messages that must exist in the code.
Relative links resolve.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
from background import paste, read_until_ready

from swxsoc_reach.cli import build_parser
from swxsoc_reach.synthetic import SyntheticOptions
from swxsoc_reach.testing.s3_server import MotoServer
from swxsoc_reach.testing.udl_server import TEST_CREDENTIAL, ServerConfig, UdlServer

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md"))
DOCUMENTS = [*PAGES, ROOT / "README.md"]
CLONE = ("Snakefile", "config", "workflow", "profiles", "sample")  # what the commands may use
BUCKET = "dev-swxsoc-pipeline-incoming"  # the bucket the docs upload to
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)
NOT_RUN = re.compile(r"<!--\s*not-run:\s*(.+?)\s*-->")
AFTER = re.compile(r"<!--\s*docs-test:\s*after\s+(\S+\.md)\s*-->")
NOT_PREREQUISITE = re.compile(r"<!--\s*docs-test:\s*not a prerequisite\b")
BACKGROUND = re.compile(r"<!--\s*docs-test:\s*background\b")
READY = "# sandbox up"  # the line a background server prints once its exports are out
TIMEOUT_S = 600


@dataclass(frozen=True)
class Block:
    """One fenced block and the marker comment right above it."""

    page: Path
    line: int
    language: str
    text: str
    marker: str  # the last non-blank line before the fence

    @property
    def where(self) -> str:
        return f"{self.page.name}:{self.line}"

    @property
    def not_run(self) -> str | None:
        match = NOT_RUN.search(self.marker)
        return match[1] if match else None

    @property
    def is_transcript(self) -> bool:
        return any(line.startswith("$ ") for line in self.text.splitlines())


def blocks(page: Path) -> list[Block]:
    text = page.read_text()
    found = []
    for match in FENCE.finditer(text):
        before = [line for line in text[:match.start()].splitlines() if line.strip()]
        found.append(Block(page, text[:match.start()].count("\n") + 1, match[1], match[2],
                           before[-1] if before else ""))
    return found


def commands(script: str) -> Iterator[list[str]]:
    """Each simple command of a script (continuations joined, split at && ; | and newlines)."""
    joined = re.sub(r"\\\n\s*", " ", script)
    for line in joined.splitlines():
        line = line.removeprefix("$ ").strip()
        if not line or line.startswith("#") or "<<" in line:
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words: list[str] = []
        for token in lexer:
            if token in ("&&", "||", ";", "|", "&"):
                yield words
                words = []
            else:
                words.append(token)
        yield words


def swxsoc_arguments(words: list[str]) -> list[str] | None:
    """The CLI arguments when ``words`` runs ``python -m swxsoc_reach``, else None."""
    for i in range(len(words) - 2):
        if Path(words[i]).name.startswith("python") and words[i + 1:i + 3] == ["-m",
                                                                              "swxsoc_reach"]:
            arguments = words[i + 3:]
            cut = next((k for k, w in enumerate(arguments) if w in (">", "2>", "2>&1")),
                       len(arguments))
            return arguments[:cut]
    return None


def test_docs_every_page_has_commands_and_the_readme_links_each_page() -> None:
    readme = (ROOT / "README.md").read_text()
    for page in PAGES:
        assert f"docs/{page.name}" in readme, f"README.md does not link {page.name}"
        if page.name != "architecture.md":
            assert any(b.language == "shell" for b in blocks(page)), page.name


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_docs_swxsoc_commands_parse(document: Path) -> None:
    """Every ``python -m swxsoc_reach`` command, run or not, is accepted by the CLI parser
    (transcripts are left out: they may show a usage error on purpose, and they run)."""
    parser = build_parser()
    for block in blocks(document):
        if block.language != "shell" or block.is_transcript:
            continue
        for words in commands(block.text):
            arguments = swxsoc_arguments(words)
            if arguments is not None:
                parser.parse_args(arguments)  # raises ConfigError naming the problem


FLAG_PAGES = {"download": "download.md", "process": "process.md", "status": "telemetry.md",
              "report": "report.md", "audit": "operations.md", "restore": "process.md",
              "quicklook": "quickstart.md", "demo": "quickstart.md", "sandbox": "quickstart.md"}


@pytest.mark.parametrize("command", sorted(FLAG_PAGES))
def test_docs_page_names_every_flag_of_its_command(command: str) -> None:
    """A flag added to the CLI must be documented on the command's page."""
    parser = build_parser()
    (subparsers,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    text = (ROOT / "docs" / FLAG_PAGES[command]).read_text()
    for action in subparsers.choices[command]._actions:
        if action.option_strings and "-h" not in action.option_strings:
            assert any(re.search(rf"`{re.escape(o)}\b", text) or re.search(
                rf"\s{re.escape(o)}[\s=]", text) for o in action.option_strings), (
                f"docs/{FLAG_PAGES[command]} does not mention {command} {action.option_strings}")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_docs_relative_links_resolve(document: Path) -> None:
    for target in re.findall(r"\]\(([^)\s]+)\)", document.read_text()):
        if re.match(r"^[a-z]+://", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        assert linked.exists(), f"{document.name}: link {target} points nowhere"
        if anchor:
            slugs = {slug(h) for h in re.findall(r"^#+ (.+)$", linked.read_text(), re.M)}
            assert anchor in slugs, f"{document.name}: no heading #{anchor} in {linked.name}"


def slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


# --- messages quoted in troubleshooting.md exist in the code -------------------------------


def message_templates() -> list[re.Pattern[str]]:
    """Every string literal of the package as a pattern (f-string fields: any text).

    Module-level string constants used in f-strings are filled in; only templates
    with at least 20 literal characters are kept (shorter ones match anything).
    """
    templates = []
    for source in (ROOT / "swxsoc_reach").rglob("*.py"):
        tree = ast.parse(source.read_text())
        constants = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                     for t in n.targets if isinstance(t, ast.Name)
                     and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)}
        for node in ast.walk(tree):
            parts: list[str | None] = []
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                parts = [node.value]
            elif isinstance(node, ast.JoinedStr):
                for value in node.values:
                    if isinstance(value, ast.Constant):
                        parts.append(str(value.value))
                    elif isinstance(value.value, ast.Name) and value.value.id in constants:
                        parts.append(constants[value.value.id])
                    else:
                        parts.append(None)
            literal = "".join(p for p in parts if p)
            if len(literal) >= 20:
                templates.append(re.compile(".+?".join(
                    "".join(re.escape(p) for p in run) for run in _runs(parts))))
    return templates


def _runs(parts: list[str | None]) -> list[list[str]]:
    runs: list[list[str]] = [[]]
    for part in parts:
        if part is None:
            runs.append([])
        else:
            runs[-1].append(part)
    return runs


def test_docs_quoted_messages_exist_in_the_code() -> None:
    templates = message_templates()
    quoted = [line for block in blocks(ROOT / "docs" / "troubleshooting.md")
              if block.language == "text" for line in block.text.splitlines() if line.strip()]
    assert quoted
    for line in quoted:
        assert any(t.search(line) for t in templates), f"no message in the code reads: {line}"


# --- running the pages ----------------------------------------------------------------------


@dataclass
class Session:
    """A directory like a clone, and the environment the commands run in."""

    directory: Path
    env: dict[str, str]
    ran: set[str]
    background: list[tuple[Block, subprocess.Popen[str]]] = field(default_factory=list)


@pytest.fixture(scope="module")
def services(udl_server_session: UdlServer,
             moto_server_process: MotoServer) -> Iterator[dict[str, str]]:
    """A local UDL server (small REACH-135 days) and moto with the docs' bucket: the env."""
    udl_server_session.configure(ServerConfig(
        data=SyntheticOptions(sensor_id="REACH-135", gap_fraction=0.9), auth=TEST_CREDENTIAL))
    moto_server_process.reset()
    moto_server_process.client().create_bucket(Bucket=BUCKET)
    environ = {k: v for k, v in moto_server_process.environ().items()
               if k not in ("SECRET_ARN_UDL", "PYTHONWARNINGS")}
    environ |= {"BASICAUTH": TEST_CREDENTIAL, "UDL_BASE_URL": udl_server_session.url,
                "PATH": os.pathsep.join([str(Path(sys.executable).parent),
                                         environ.get("PATH", "")])}
    yield environ


def new_session(tmp_path: Path, env: dict[str, str]) -> Session:
    directory = tmp_path / "clone"
    directory.mkdir()
    for name in CLONE:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, directory / name,
                            ignore=shutil.ignore_patterns("demo-output", ".snakemake"))
        elif source.exists():
            shutil.copy2(source, directory / name)
    return Session(directory, {**env, "HOME": str(tmp_path)}, set())


def run_page(session: Session, page: Path, *, as_prerequisite: bool = False) -> None:
    text = page.read_text()
    for needed in AFTER.findall(text):
        if needed not in session.ran:
            run_page(session, page.parent / needed, as_prerequisite=True)
    for block in blocks(page):
        if block.language != "shell" or block.not_run:
            continue
        if as_prerequisite and NOT_PREREQUISITE.search(block.marker):
            continue
        if BACKGROUND.search(block.marker):
            start_background(session, block)
        elif block.is_transcript:
            check_transcript(session, block)
        else:
            done = bash(session, block.text)
            assert done.returncode == 0, (f"{block.where} exited {done.returncode}:\n"
                                          f"{block.text}\n{done.stdout}")
    session.ran.add(page.name)


def start_background(session: Session, block: Block) -> None:
    """Start the block as a terminal would (its own process group); wait for its ready line;
    apply the ``unset``/``export`` lines it printed to the rest of the page."""
    process = subprocess.Popen(["bash", "-e", "-c", block.text], cwd=session.directory,
                               env=session.env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               process_group=0)
    session.background.append((block, process))
    session.env = paste(read_until_ready(process, READY, TIMEOUT_S), session.env)


def stop_background(session: Session) -> list[str]:
    """Ctrl-C to each background block's process group; what went wrong stopping them."""
    problems = []
    for block, process in session.background:
        family = [psutil.Process(process.pid), *psutil.Process(process.pid).children(
            recursive=True)] if process.poll() is None else []
        if family:
            os.killpg(process.pid, signal.SIGINT)
        try:
            _, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
        _, alive = psutil.wait_procs(family, timeout=30)
        for leftover in alive:
            leftover.kill()
        if process.returncode != 0 or "Traceback" in err or alive:
            problems.append(f"{block.where}: exit {process.returncode} after Ctrl-C, "
                            f"{len(alive)} processes left behind:\n{err}")
    return problems


def bash(session: Session, script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=session.directory,
                          env=session.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT_S, check=False)


def transcript(text: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) pairs; continuation lines join their command."""
    steps: list[tuple[str, list[str]]] = []
    continued = False
    for line in text.splitlines():
        if line.startswith("$ ") or continued:
            if continued:
                command, expected = steps[-1]
                steps[-1] = (command + "\n" + line, expected)
            else:
                steps.append((line[2:], []))
            continued = line.endswith("\\")
        elif line.strip():
            steps[-1][1].append(line)
    return steps


def check_transcript(session: Session, block: Block) -> None:
    """Run the commands in one shell ($? carries over) and compare each one's output."""
    steps = transcript(block.text)
    script = ["__status=0"]
    for i, (command, _) in enumerate(steps):
        script += [f"printf '\\n@@step {i}@@\\n'", "(exit $__status)",
                   f"{{ {command}\n}} 2>&1", "__status=$?"]
    done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=session.directory,
                          env=session.env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=TIMEOUT_S, check=False)
    outputs = re.split(r"\n@@step \d+@@\n", "\n" + done.stdout)[1:]
    assert len(outputs) == len(steps), f"{block.where}: the transcript stopped:\n{done.stderr}"
    for (command, expected), output in zip(steps, outputs, strict=True):
        lines = [line.rstrip() for line in output.splitlines()]
        for want in expected:
            pattern = re.compile(".*".join(re.escape(part) for part in want.split("...")))
            assert any(pattern.fullmatch(line) for line in lines), (
                f"{block.where}: `{command}` did not print\n  {want}\nit printed:\n{output}")


@pytest.mark.parametrize("page", DOCUMENTS, ids=lambda p: p.name)
def test_docs_page_commands_run(page: Path, services: dict[str, str], tmp_path: Path) -> None:
    session = new_session(tmp_path, services)
    try:
        run_page(session, page)
    finally:
        problems = stop_background(session)
    assert not problems, "\n".join(problems)
