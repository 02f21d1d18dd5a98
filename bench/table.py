"""The one table the benchmark prints: a row per figure, the baseline beside it where it does
the same work, and the issue's target with a computed verdict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

COLUMNS = ("measure", "afterhours", "naive baseline", "afterhours / baseline", "target",
           "verdict")
MET, NOT_MET, NOT_RUN, NONE = "met", "not met", "not run", "—"


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    measure: str
    afterhours: str
    baseline: str = NONE
    ratio: str = NONE
    target: str = NONE
    verdict: str = NONE

    def cells(self) -> tuple[str, ...]:
        """The row's cells in column order."""
        return (self.measure, self.afterhours, self.baseline, self.ratio, self.target,
                self.verdict)


def judged(ok: bool) -> str:
    """The verdict word for a target that was checked."""
    return MET if ok else NOT_MET


def render(rows: Sequence[Row]) -> str:
    """A Markdown table (readable as plain text too), columns padded to their widest cell."""
    lines = [COLUMNS, *(row.cells() for row in rows)]
    widths = [max(len(line[n]) for line in lines) for n in range(len(COLUMNS))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(COLUMNS), rule, *(line(row.cells()) for row in rows)])


def summary(rows: Sequence[Row]) -> str:
    """How many targets were met, missed and not run."""
    verdicts = [row.verdict for row in rows]
    missed = [row.measure for row in rows if row.verdict == NOT_MET]
    text = (f"targets: {verdicts.count(MET)} met, {len(missed)} not met, "
            f"{verdicts.count(NOT_RUN)} not run")
    return "\n".join([text, *(f"  not met: {measure.strip()}" for measure in missed)])
