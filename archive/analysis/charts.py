"""Charts drawn on the server as accessible SVG, from tables that have been through disclosure control.

Each chart is ``role="img"`` named by its ``<title>`` and described by its ``<desc>``; every bar and
cell carries its number as text, hidden numbers are hatched and labelled, so nothing relies on
colour. The page puts the same table beside the chart and offers it as CSV.
Only presentation attributes are used (no ``style``), so the strict Content-Security-Policy holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext
from markupsafe import Markup, escape

from .disclosure import Cell, ProtectedTable

FONT = "GDS Transport, arial, sans-serif"
INK = "#0b0c0c"
BAR = "#1d70b8"
# A sequential blue scale; ink is chosen per step so every label keeps at least 4.5:1 contrast.
STEPS = (("#f3f2f1", INK), ("#d2e2f1", INK), ("#a8c6e4", INK), ("#5694ca", INK), ("#1d70b8", "#ffffff"), ("#003078", "#ffffff"))
HATCH = "#505a5f"
LEGEND_STEP = 92
HIDDEN = lazy_gettext("hidden")
NO_FIGURE = lazy_gettext("no figure")


def _esc(value) -> str:
    # str() first: a lazy translation string claims to be safe HTML, and markupsafe would trust it.
    return escape(str(value))


def _short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _hatch(pattern_id: str) -> str:
    return (
        f'<pattern id="{pattern_id}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="6" stroke="{HATCH}" stroke-width="2"/>'
        "</pattern>"
    )


def _open(chart_id: str, width: int, height: int, title: str, desc: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{chart_id}" class="chorus-chart" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" preserveAspectRatio="xMinYMin meet" font-family="{FONT}" font-size="14" fill="{INK}">'
        f'<title id="{chart_id}-title">{_esc(title)}</title><desc id="{chart_id}-desc">{_esc(desc)}</desc>'
    )


def step_for(value: int, top: int) -> int:
    """Which of the colour steps a shown count falls in: 0 for none, then five equal bands up to the top."""
    if value <= 0 or top <= 0:
        return 0
    return min(5, 1 + (value * 5 - 1) // top)


def legend_bands(top: int) -> list[tuple[int, str]]:
    """The counts each colour step stands for, for the key under a heat map or map."""
    bands = [(0, "0")]
    for step in range(1, 6):
        values = [v for v in range(1, top + 1) if step_for(v, top) == step]
        if values:
            label = str(values[0]) if values[0] == values[-1] else str(lazy_gettext("%(low)d to %(high)d", low=values[0], high=values[-1]))
            bands.append((step, label))
    return bands


def _top(cells) -> int:
    return max([c.value for c in cells if c.shown] or [0])


def bar_chart(table: ProtectedTable, chart_id: str, title: str, desc: str, column: int = 0) -> Markup:
    """Horizontal bars, one per row of `table` (its `column`), each labelled with its number."""
    cells: list[Cell] = [row[column] for row in table.cells]
    label_w, bar_w, row_h, top_pad = 230, 330, 30, 10
    width, height = label_w + bar_w + 70, top_pad * 2 + row_h * max(1, len(cells))
    top = _top(cells)
    out = [_open(chart_id, width, height, title, desc), f"<defs>{_hatch(chart_id + '-hatch')}</defs>"]
    for n, (label, cell) in enumerate(zip(table.rows, cells)):
        y = top_pad + n * row_h
        out.append(f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end">{_esc(_short(label))}</text>')
        if cell.shown:
            length = 0 if top == 0 else round(bar_w * cell.value / top)
            out.append(f'<rect x="{label_w}" y="{y + 4}" width="{length}" height="{row_h - 8}" fill="{BAR}"/>')
            out.append(f'<text x="{label_w + length + 6}" y="{y + 19}">{cell.display}</text>')
        else:
            out.append(
                f'<rect x="{label_w}" y="{y + 4}" width="24" height="{row_h - 8}" fill="url(#{chart_id}-hatch)" '
                f'stroke="{HATCH}"/><text x="{label_w + 30}" y="{y + 19}">{_esc(cell.display)}</text>'
            )
    out.append("</svg>")
    return Markup("".join(out))


def heat_map(table: ProtectedTable, chart_id: str, title: str, desc: str, key: str | None = None) -> Markup:
    """A matrix of shaded cells (rows by columns), every cell labelled with its number."""
    label_w, cell_w, cell_h, head_h = 230, 64, 30, 110
    n_rows, n_cols = len(table.rows), len(table.columns)
    top = _top([c for row in table.cells for c in row])
    legend_w = (len(legend_bands(top)) + 1) * LEGEND_STEP
    # Room on the right for the last column's slanted heading.
    width = label_w + max(cell_w * max(1, n_cols) + 110, legend_w + 20)
    height = head_h + cell_h * max(1, n_rows) + 60
    out = [_open(chart_id, width, height, title, desc), f"<defs>{_hatch(chart_id + '-hatch')}</defs>"]
    for j, label in enumerate(table.columns):
        x = label_w + j * cell_w + cell_w / 2
        out.append(
            f'<text x="{x}" y="{head_h - 8}" transform="rotate(-40 {x} {head_h - 8})">{_esc(_short(label, 18))}</text>'
        )
    for i, label in enumerate(table.rows):
        y = head_h + i * cell_h
        out.append(f'<text x="{label_w - 8}" y="{y + 20}" text-anchor="end">{_esc(_short(label))}</text>')
        for j, cell in enumerate(table.cells[i]):
            x = label_w + j * cell_w
            if cell.shown:
                fill, ink = STEPS[step_for(cell.value, top)]
            else:
                fill, ink = f"url(#{chart_id}-hatch)", INK
            out.append(
                f'<rect x="{x}" y="{y}" width="{cell_w}" height="{cell_h}" fill="{fill}" stroke="#ffffff" stroke-width="2"/>'
            )
            text = _esc(cell.display)
            if not cell.shown:  # a white plate under the label keeps it readable over the hatching
                out.append(f'<rect x="{x + 14}" y="{y + 6}" width="{cell_w - 28}" height="{cell_h - 12}" fill="#ffffff"/>')
            out.append(f'<text x="{x + cell_w / 2}" y="{y + 20}" text-anchor="middle" fill="{ink}">{text}</text>')
    out.append(legend(chart_id, top, label_w, head_h + cell_h * max(1, n_rows) + 16, key or str(lazy_gettext("Key (items)"))))
    out.append("</svg>")
    return Markup("".join(out))


def legend(chart_id: str, top: int, x: float, y: float, caption: str | None = None, step: int = LEGEND_STEP) -> str:
    """The colour key, hidden numbers included: a caption to the left of `x` (if any), swatches from `x`."""
    parts = [f'<text x="{x - 8}" y="{y + 15}" text-anchor="end">{_esc(caption)}</text>'] if caption else []
    bands = legend_bands(top)
    for n, (level, label) in enumerate(bands):
        fill, _ = STEPS[level]
        cx = x + n * step
        parts.append(f'<rect x="{cx}" y="{y}" width="20" height="20" fill="{fill}" stroke="{HATCH}"/>')
        parts.append(f'<text x="{cx + 26}" y="{y + 15}">{_esc(label)}</text>')
    cx = x + len(bands) * step
    parts.append(f'<rect x="{cx}" y="{y}" width="20" height="20" fill="url(#{chart_id}-hatch)" stroke="{HATCH}"/>')
    parts.append(f'<text x="{cx + 26}" y="{y + 15}">{_esc(str(HIDDEN))}</text>')
    return "".join(parts)


@dataclass(frozen=True)
class ChartSpec:
    """One chart on a page: its id, words, chart and table (the table is also the CSV)."""

    key: str
    title: str
    description: str
    table: ProtectedTable
    svg: Markup
    first_header: str
