"""The report as one self-contained HTML file: every chart drawn by Plotly from the report's
own tables, plotly.js inlined once (from the plotly package: nothing is fetched when the
file is opened), and each figure's numbers in a table beside it. Text from tickets is
escaped; Plotly escapes what it writes into its scripts."""

from __future__ import annotations

import html
from datetime import datetime

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from afterhours.report.model import Cell, Report, Section, Table

CHART_CLASS = "ah-chart"  # every chart's container: the browser tests count them
_CONFIG = {"displaylogo": False, "displayModeBar": False, "responsive": True}
# Colours that say what a series means; the rest take Plotly's defaults.
COLOURS = {"met": "#2e9d5b", "missed": "#d64541", "not yet due": "#9aa5b1", "unknown": "#c9b458",
           "no promise": "#d5d9de", "acknowledged": "#2e9d5b", "resolved": "#3a78c2",
           "still open": "#d64541"}
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #222;
       padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 2px solid #ddd; margin-top: 2.5rem; }
nav a { margin-right: 1rem; } .period { color: #555; margin-top: 0; }
dl.headline { display: flex; flex-wrap: wrap; gap: 0.8rem; }
dl.headline div { background: #f3f5f8; border-radius: 6px; padding: 0.5rem 0.9rem; }
dl.headline dt { font-size: 0.8rem; color: #555; } dl.headline dd { margin: 0;
  font-size: 1.4rem; font-weight: 600; }
/* Two fixed columns: Plotly sizes each chart once, as it is drawn, to its column. */
.figures { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 0 2rem; }
@media (max-width: 60rem) { .figures { grid-template-columns: minmax(0, 1fr); } }
.figure { margin: 1rem 0; min-width: 0; } .figure.wide { grid-column: 1 / -1; }
.note { color: #555; font-size: 0.85rem; }
.ah-chart { height: 300px; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: left; }
th { background: #f3f5f8; }
"""


def _cell(value: Cell) -> str:
    return "" if value is None else html.escape(str(value))


def _table_html(table: Table) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>"
                   for row in table.rows)
    if not table.rows:
        body = f'<tr><td colspan="{len(table.columns)}">none in this period</td></tr>'
    return f'<table data-figure="{table.name}"><tr>{head}</tr>{body}</table>'


def _series(table: Table) -> list[int]:
    """The columns a chart draws: every numeric column but percentages (which a table shows)."""
    found = []
    for index, column in enumerate(table.columns[1:], start=1):
        numeric = all(isinstance(row[index], int | float | type(None)) for row in table.rows)
        if numeric and not column.endswith("%"):
            found.append(index)
    return found if table.chart != "bar" else found[:1]


def chart(table: Table, div_id: str) -> str:
    """A Plotly bar chart of `table`, as a div and its script (plotly.js not included)."""
    labels = [str(row[0]) for row in table.rows]
    figure = go.Figure(
        [go.Bar(name=table.columns[i], x=labels, y=[row[i] for row in table.rows],
                marker_color=COLOURS.get(table.columns[i]))
         for i in _series(table)],
        layout=go.Layout(
            barmode="stack" if table.chart == "stacked" else "group",
            margin={"l": 50, "r": 20, "t": 20, "b": 70}, height=300,
            showlegend=table.chart != "bar", xaxis={"type": "category"},
            yaxis={"title": {"text": table.columns[1] if table.chart == "bar" else ""},
                   "type": "log" if table.log_scale else "linear"},
        ))
    inner: str = figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                                config=_CONFIG)
    return f'<div class="{CHART_CLASS}" data-figure="{table.name}">{inner}</div>'


def _figure(table: Table, number: int) -> str:
    wide = " wide" if table.chart == "table" else ""
    parts = [f'<div class="figure{wide}" id="{table.name}"><h3>{html.escape(table.title)}</h3>']
    if table.chart != "table" and table.rows:
        parts.append(chart(table, f"chart-{number}"))
        parts.append(f"<details><summary>numbers</summary>{_table_html(table)}</details>")
    else:
        parts.append(_table_html(table))
    if table.note:
        parts.append(f'<p class="note">{html.escape(table.note)}</p>')
    parts.append("</div>")
    return "".join(parts)


def _section(section: Section, first: int) -> str:
    headline = "".join(f"<div><dt>{html.escape(label)}</dt><dd>{_cell(value)}</dd></div>"
                       for label, value in section.headline)
    figures = "".join(_figure(t, first + i) for i, t in enumerate(section.tables))
    return (f'<section id="{section.name}"><h2>{html.escape(section.title)}</h2>'
            f'<dl class="headline">{headline}</dl><div class="figures">{figures}</div></section>')


def _moment(moment: datetime) -> str:
    return moment.strftime("%a %d %b %Y %H:%M %Z")


def render_html(report: Report) -> str:
    """The whole report as one HTML document that needs no network to open."""
    nav = "".join(f'<a href="#{s.name}">{html.escape(s.title)}</a>' for s in report.sections)
    sections, number = [], 0
    for section in report.sections:
        sections.append(_section(section, number))
        number += len(section.tables)
    title = "afterhours report"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{title}</title><style>{_STYLE}</style>"
        f"<script>{get_plotlyjs()}</script></head><body>"
        f"<h1>{title}</h1><p class=\"period\">{_moment(report.start)} to"
        f" {_moment(report.end)} (local times in {html.escape(report.time_zone)})</p>"
        f"<nav>{nav}</nav>{''.join(sections)}</body></html>\n"
    )
