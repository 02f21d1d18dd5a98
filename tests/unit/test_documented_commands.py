"""The docs match the program: every `afterhours` command line that the README, docs/, deploy/
and the Dockerfile show names a command that exists, with options it takes."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from afterhours.cli import build_parser
from afterhours.cli_grammar import option_strings

ROOT = Path(__file__).parents[2]
DOCUMENTS = sorted([ROOT / "README.md", ROOT / "Dockerfile", *(ROOT / "docs").glob("*.md"),
                    *(p for p in (ROOT / "deploy").rglob("*") if p.is_file())])
# `afterhours` then a command word: in code, after a path (.venv/bin/) or an image name.
# (Not `[afterhours ticket:...]`, the marker notes end with.)
_COMMAND = re.compile(r"(?<![\w.\[-])afterhours[ \t]+(?!afterhours\b)(?P<rest>[a-z][^`\n]*)")
_FENCE = re.compile(r"```[a-z]*\n(.*?)```", re.DOTALL)
_INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_SHELL = re.compile(r"\b(docker|podman|kubectl|compose)\b")
_EXEC_FORM = re.compile(r"(?:command|args|CMD)\s*:?\s*\[\"([a-z-]+)\"")
# Words after `afterhours` that are not a command: an image or service name in a sentence.
_NOT_COMMANDS = frozenset({"with", "on", "is", "routing", "the", "and", "for", "to", "does",
                           "user", "image", "service", "daemon"})


def _parsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    found = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(found.choices)


PARSERS = _parsers()


def _code(path: Path) -> list[str]:
    """The places in a document where a command line may stand: code blocks and inline code
    in Markdown, every line elsewhere (manifests, the Dockerfile, env files)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".md":  # comments are prose; a command line is in one of these
        return [line for line in text.splitlines() if _SHELL.search(line)
                or _EXEC_FORM.search(line)] + _INLINE.findall(text)
    lines = [line for block in _FENCE.findall(text) for line in block.splitlines()]
    outside = _FENCE.sub("", text)
    return lines + _INLINE.findall(outside.replace("\n", " "))


def documented() -> list[tuple[str, str]]:
    """(where, command line) for every `afterhours ...` line the documents show."""
    found = []
    for path in DOCUMENTS:
        where = str(path.relative_to(ROOT))
        for code in _code(path):
            line = code.split("  #")[0]
            for match in _COMMAND.finditer(line):
                rest = match.group("rest")
                if rest.split()[0] not in _NOT_COMMANDS:
                    found.append((where, rest.strip()))
            found += [(where, command) for command in _EXEC_FORM.findall(line)]
    return found


LINES = documented()


def test_the_documents_show_many_command_lines() -> None:
    commands = {line.split()[0] for _, line in LINES}
    assert commands >= {"run", "check", "config", "explain", "replay", "audit", "failed",
                        "retry", "twins", "demo", "import-schedule", "schema", "completion"}


@pytest.mark.parametrize(("where", "line"), LINES, ids=[f"{w}: {line}" for w, line in LINES])
def test_each_documented_command_and_option_exists(where: str, line: str) -> None:
    command, *words = line.split()
    assert command in PARSERS, f"{where}: `afterhours {line}`: no command {command!r}"
    known = set(option_strings(PARSERS[command]))
    for word in words:
        option = word.strip("[]()|,.'\"").split("=")[0]
        if option.startswith("-") and option not in ("-", "--"):
            assert option in known, f"{where}: `afterhours {line}`: {command} has no {option}"
