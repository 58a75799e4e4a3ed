"""Disclosure control for counts shown outside the team: charts, the map, reach and exports.

The method (documented in docs/analysis.md) follows the GSS/ONS cell-suppression approach:

* **Primary suppression**: a count from 1 to ``threshold - 1`` is shown as ``"<threshold"``.
  Zero is shown: an empty cell says nothing about a person.
* **Secondary suppression**: where a shown total would let a reader subtract their way back to a
  suppressed cell, the next smallest non-zero cell in the same row or column is suppressed too
  (shown as ``"[c]"``, the GSS symbol for "confidential"). Only when a row or column has no cell
  left to hide is its total hidden instead.
* **Audit**: the heuristic is then checked exactly. For every hidden number a linear programme
  finds the least and greatest value consistent with everything shown (shown cells and totals,
  and what a reader knows from the symbols: a ``<5`` cell is 1 to 4, a ``[c]`` cell is at least
  5). If the two meet, that number can be worked out, and one more cell is hidden. Table margins
  are a network matrix, so the programme's bounds are whole numbers and "min equals max" is
  exactly "recoverable".

Callers pass plain counts taken after the consent filter and get back a ``ProtectedTable`` whose
cells carry their display text; nothing downstream should format a raw count for an outside reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Iterable, Sequence

DEFAULT_THRESHOLD = 5
# "<2" would say "exactly 1" once zeros are shown, so a working threshold starts at 3.
MIN_THRESHOLD = 3
MAX_THRESHOLD = 100
SECONDARY_SYMBOL = "[c]"


class CellState(str, Enum):
    SHOWN = "shown"
    PRIMARY = "primary"  # small in itself
    SECONDARY = "secondary"  # hidden so that a primary cell cannot be worked out


@dataclass(frozen=True)
class Cell:
    value: int
    state: CellState
    threshold: int

    @property
    def shown(self) -> bool:
        return self.state == CellState.SHOWN

    @property
    def public_value(self) -> int | None:
        """The number a reader may see, or None when it is hidden."""
        return self.value if self.shown else None

    @property
    def display(self) -> str:
        if self.state == CellState.PRIMARY:
            return f"<{self.threshold}"
        if self.state == CellState.SECONDARY:
            return SECONDARY_SYMBOL
        return str(self.value)

    def __str__(self) -> str:
        return self.display


@dataclass(frozen=True)
class ProtectedTable:
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: tuple[tuple[Cell, ...], ...]
    row_totals: tuple[Cell, ...] | None
    column_totals: tuple[Cell, ...] | None
    grand_total: Cell | None
    threshold: int

    @property
    def any_hidden(self) -> bool:
        every = [c for row in self.cells for c in row]
        every += list(self.row_totals or ()) + list(self.column_totals or ())
        every += [self.grand_total] if self.grand_total else []
        return any(not c.shown for c in every)

    def display_rows(self, first_header: str = "", total_label: str = "Total") -> list[list[str]]:
        """Header then one list of strings per row: what the HTML table and the CSV both show."""
        header = [first_header, *self.columns] + ([total_label] if self.row_totals is not None else [])
        out = [header]
        for i, label in enumerate(self.rows):
            line = [label, *(c.display for c in self.cells[i])]
            if self.row_totals is not None:
                line.append(self.row_totals[i].display)
            out.append(line)
        if self.column_totals is not None:
            line = [total_label, *(c.display for c in self.column_totals)]
            if self.row_totals is not None:
                line.append(self.grand_total.display if self.grand_total else "")
            out.append(line)
        return out


def check_threshold(threshold: int) -> int:
    """A programme's threshold, validated: 0 or 1 switch suppression off, otherwise 3 to 100."""
    if threshold in (0, 1):
        return threshold
    if not MIN_THRESHOLD <= threshold <= MAX_THRESHOLD:
        raise ValueError(f"the small-count threshold must be 0 (off) or from {MIN_THRESHOLD} to {MAX_THRESHOLD}")
    return threshold


def threshold_for(programme) -> int:
    """The threshold a programme set, or the default when it set none."""
    value = getattr(programme, "small_count_threshold", None)
    return check_threshold(DEFAULT_THRESHOLD if value is None else int(value))


def protect_count(value: int, threshold: int) -> Cell:
    """A single count shown on its own (no totals beside it)."""
    check_threshold(threshold)
    return Cell(int(value), _primary_state(int(value), threshold), threshold)


def protect_series(
    labels: Sequence[str], values: Sequence[int], threshold: int, *, total: bool = True, heading: str = "Count"
) -> ProtectedTable:
    """One count per label (a bar chart), with an optional total beneath."""
    return protect(
        [[v] for v in values], threshold, rows=labels, columns=[heading], row_totals=False, column_totals=total
    )


def protect(
    values: Sequence[Sequence[int]],
    threshold: int,
    *,
    rows: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    row_totals: bool = True,
    column_totals: bool = True,
) -> ProtectedTable:
    """Suppress a table of counts so that no hidden number can be worked out from what is shown.

    ``values[i][j]`` is the count for row i and column j. Totals are the exact sums of the true
    counts; a grand total is shown when both row and column totals are.
    """
    check_threshold(threshold)
    grid = [[_count(v) for v in row] for row in values]
    n_rows = len(grid)
    n_cols = len(grid[0]) if grid else len(columns or ())
    if any(len(row) != n_cols for row in grid):
        raise ValueError("every row needs the same number of columns")
    rows = tuple(rows) if rows is not None else tuple(str(i + 1) for i in range(n_rows))
    columns = tuple(columns) if columns is not None else tuple(str(j + 1) for j in range(n_cols))
    if len(rows) != n_rows or len(columns) != n_cols:
        raise ValueError("labels do not match the table's shape")

    problem = _Problem(grid, n_cols, threshold, row_totals, column_totals)
    if threshold > 1:
        problem.suppress()
    state = problem.state
    cells = tuple(
        tuple(Cell(grid[i][j], state[("c", i, j)], threshold) for j in range(n_cols)) for i in range(n_rows)
    )
    rt = (
        tuple(Cell(sum(grid[i]), state[("r", i)], threshold) for i in range(n_rows)) if row_totals else None
    )
    ct = (
        tuple(Cell(sum(grid[i][j] for i in range(n_rows)), state[("k", j)], threshold) for j in range(n_cols))
        if column_totals
        else None
    )
    gt = Cell(sum(map(sum, grid)), state[("g",)], threshold) if row_totals and column_totals else None
    return ProtectedTable(rows, columns, cells, rt, ct, gt, threshold)


def _count(v) -> int:
    v = int(v)
    if v < 0:
        raise ValueError("counts cannot be negative")
    return v


def _primary_state(value: int, threshold: int) -> CellState:
    return CellState.PRIMARY if threshold > 1 and 0 < value < threshold else CellState.SHOWN


class _Problem:
    """The table as variables (cells, totals) and the equalities a reader can write down."""

    def __init__(self, grid: list[list[int]], n_cols: int, threshold: int, row_totals: bool, column_totals: bool):
        self.grid = grid
        self.threshold = threshold
        n_rows = len(grid)
        self.value: dict[tuple, int] = {}
        self.state: dict[tuple, CellState] = {}
        for i in range(n_rows):
            for j in range(n_cols):
                self.value[("c", i, j)] = grid[i][j]
                self.state[("c", i, j)] = _primary_state(grid[i][j], threshold)
        # Each equality: (total variable, the cell variables that add up to it).
        self.equalities: list[tuple[tuple, list[tuple]]] = []
        if row_totals:
            for i in range(n_rows):
                self._total(("r", i), sum(grid[i]))
                self.equalities.append((("r", i), [("c", i, j) for j in range(n_cols)]))
        if column_totals:
            for j in range(n_cols):
                self._total(("k", j), sum(grid[i][j] for i in range(n_rows)))
                self.equalities.append((("k", j), [("c", i, j) for i in range(n_rows)]))
        if row_totals and column_totals:
            self._total(("g",), sum(map(sum, grid)))
            self.equalities.append((("g",), [("r", i) for i in range(n_rows)]))

    def _total(self, key: tuple, value: int) -> None:
        self.value[key] = value
        self.state[key] = CellState.SHOWN

    # -- the heuristic -------------------------------------------------------------------------

    def suppress(self) -> None:
        self._pair_up()
        while True:
            exposed = self._recoverable()
            if not exposed:
                return
            progress = [self._hide_one_more(key) for key in exposed]
            if not any(progress):
                raise RuntimeError("disclosure control could not protect this table")  # threshold >= 3 cannot
            self._pair_up()

    def _lines(self, key: tuple) -> list[tuple[tuple, list[tuple]]]:
        return [(total, members) for total, members in self.equalities if key in members or key == total]

    def _pair_up(self) -> None:
        """No shown total may sit over exactly one hidden cell: hide the next smallest beside it."""
        changed = True
        while changed:
            changed = False
            for total, members in self.equalities:
                if self.state[total] != CellState.SHOWN:
                    continue
                hidden = [m for m in members if self.state[m] != CellState.SHOWN]
                if len(hidden) != 1:
                    continue
                if self._hide_smallest(members) is None:
                    self.state[total] = CellState.SECONDARY
                changed = True

    def _hide_smallest(self, members: Iterable[tuple]) -> tuple | None:
        candidates = [
            m for m in members if m[0] == "c" and self.state[m] == CellState.SHOWN and self.value[m] > 0
        ]
        if not candidates:
            return None
        pick = min(candidates, key=lambda m: (self.value[m], m))
        self.state[pick] = CellState.SECONDARY
        return pick

    def _hide_one_more(self, key: tuple) -> bool:
        """Hide one more number near `key`; False when nothing is left to hide."""
        lines = self._lines(key)
        cells = [m for _, members in lines for m in members]
        if self._hide_smallest(cells) is not None:
            return True
        for total, members in lines:
            for candidate in [total, *members]:
                if self.state[candidate] == CellState.SHOWN and candidate[0] != "c":
                    self.state[candidate] = CellState.SECONDARY
                    return True
        # Every neighbour is hidden already: hide any shown total, so the loop always makes progress.
        for candidate, state in self.state.items():
            if state == CellState.SHOWN and candidate[0] != "c":
                self.state[candidate] = CellState.SECONDARY
                return True
        return False

    # -- the audit -----------------------------------------------------------------------------

    def bounds(self, key: tuple) -> tuple[float, float]:
        """What a reader knows of a hidden number from its symbol alone."""
        if key[0] != "c":
            return (0, float("inf"))
        if self.state[key] == CellState.PRIMARY:
            return (1, self.threshold - 1)
        return (self.threshold, float("inf"))

    def _recoverable(self) -> list[tuple]:
        # Only cells matter: a hidden total that can be worked out says nothing about any one cell.
        return pinned_cells(self)


@dataclass
class _System:
    """The reader's equations over the hidden numbers: A x = b, with the bounds the symbols give."""

    unknown: list[tuple]
    a_eq: "object"
    b_eq: "object"
    bounds: list[tuple]


def _system(problem: "_Problem") -> _System:
    import numpy as np

    unknown = [k for k, s in problem.state.items() if s != CellState.SHOWN]
    index = {k: n for n, k in enumerate(unknown)}
    rows, rhs = [], []
    for total, members in problem.equalities:
        row = np.zeros(len(unknown))
        value = 0.0
        for key, sign in [(total, -1.0)] + [(m, 1.0) for m in members]:
            if key in index:
                row[index[key]] += sign
            else:
                value -= sign * problem.value[key]
        if row.any():
            rows.append(row)
            rhs.append(value)
    bounds = [tuple(None if b == float("inf") else b for b in problem.bounds(k)) for k in unknown]
    return _System(unknown, np.array(rows) if rows else None, np.array(rhs) if rhs else None, bounds)


def _solve(system: _System, objective, bounds=None):
    from scipy.optimize import linprog  # imported here: only tables with hidden cells need it

    result = linprog(objective, A_eq=system.a_eq, b_eq=system.b_eq, bounds=bounds or system.bounds, method="highs")
    if result.status not in (0, 3):
        raise RuntimeError(f"disclosure audit failed: {result.message}")
    return result


def pinned_cells(problem: "_Problem") -> list[tuple]:
    """Hidden cells whose value a reader can work out exactly from what is shown.

    Most hidden cells can be shown to move with a few combined programmes: maximise (then
    minimise) the sum of the cells not yet shown to move; any cell that ends away from its true
    value can take another value. Only cells left over get the exact least/greatest check.
    """
    import numpy as np

    system = _system(problem)
    cells = [k for k in system.unknown if k[0] == "c"]
    if not cells:
        return []
    if system.a_eq is None:
        return [k for k in cells if problem.bounds(k)[0] == problem.bounds(k)[1]]
    index = {k: n for n, k in enumerate(system.unknown)}
    truth = np.array([problem.value[k] for k in system.unknown], dtype=float)
    # Capping each cell one above its value keeps these programmes bounded; a move found inside
    # the cap is a move all the same.
    capped = [
        (lo, truth[n] + 1 if k[0] == "c" and (hi is None or hi > truth[n] + 1) else hi)
        for n, (k, (lo, hi)) in enumerate(zip(system.unknown, system.bounds))
    ]
    open_cells = set(cells)
    progress = True
    while open_cells and progress:
        progress = False
        for sense in (1.0, -1.0):
            if not open_cells:
                break
            objective = np.zeros(len(system.unknown))
            for k in open_cells:
                objective[index[k]] = -sense  # linprog minimises
            result = _solve(system, objective, capped)
            if result.status != 0:
                continue
            moved = {k for k in open_cells if abs(result.x[index[k]] - problem.value[k]) > 1e-6}
            if moved:
                open_cells -= moved
                progress = True
    pinned = []
    for k in sorted(open_cells):
        objective = np.zeros(len(system.unknown))
        objective[index[k]] = 1.0
        low = _solve(system, objective)
        objective[index[k]] = -1.0
        high = _solve(system, objective)
        if high.status == 0 and (-high.fun) - low.fun < 0.5:
            pinned.append(k)
    return pinned


def hidden_ranges(problem: "_Problem") -> dict[tuple, tuple[float, float]]:
    """For every hidden number, the least and greatest value consistent with what is shown (for checking by hand)."""
    import numpy as np

    system = _system(problem)
    ranges: dict[tuple, tuple[float, float]] = {}
    for n, key in enumerate(system.unknown):
        if system.a_eq is None:
            ranges[key] = problem.bounds(key)
            continue
        objective = np.zeros(len(system.unknown))
        objective[n] = 1.0
        low = _solve(system, objective)
        objective[n] = -1.0
        high = _solve(system, objective)
        ranges[key] = (low.fun, float("inf") if high.status == 3 else -high.fun)
    return ranges
