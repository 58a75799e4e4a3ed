"""Disclosure control: small counts hidden, and no hidden count can be worked out from what is shown.

The property test attacks each protected table with a brute-force search that knows everything a
reader knows (shown cells and totals, "<5" means 1 to 4, "[c]" means 5 or more) and is written
independently of the linear programme the module audits itself with.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.analysis.disclosure import (
    SECONDARY_SYMBOL,
    CellState,
    check_threshold,
    protect,
    protect_count,
    protect_series,
)


def _alternative_exists(table, target, limit):
    """Is there a table consistent with everything shown in which cell `target` differs?"""
    n_rows, n_cols = len(table.cells), len(table.columns)
    t = table.threshold
    hidden = [(i, j) for i in range(n_rows) for j in range(n_cols) if not table.cells[i][j].shown]
    hidden.sort(key=lambda k: k != target)

    def domain(key):
        cell = table.cells[key[0]][key[1]]
        values = range(1, t) if cell.state == CellState.PRIMARY else range(t, t + limit)
        return [v for v in values if key != target or v != cell.value]

    span = {}
    for key in hidden:
        values = domain(key)
        span[key] = (min(values), max(values)) if values else (1, 0)

    def line_ok(keys, total):
        # Bounds pruning: what is placed plus the least (most) the rest could be must reach (not pass) the total.
        low = sum(grid[k] if k in grid else span[k][0] for k in keys)
        high = sum(grid[k] if k in grid else span[k][1] for k in keys)
        return low <= total <= high

    def consistent(grid, complete):
        for i in range(n_rows):
            if table.row_totals is not None and table.row_totals[i].shown:
                if not line_ok([(i, j) for j in range(n_cols)], table.row_totals[i].value):
                    return False
        for j in range(n_cols):
            if table.column_totals is not None and table.column_totals[j].shown:
                if not line_ok([(i, j) for i in range(n_rows)], table.column_totals[j].value):
                    return False
        if complete and table.grand_total is not None and table.grand_total.shown:
            return sum(grid.values()) == table.grand_total.value
        return True

    grid = {
        (i, j): table.cells[i][j].value
        for i in range(n_rows)
        for j in range(n_cols)
        if table.cells[i][j].shown
    }

    def search(k):
        if k == len(hidden):
            return consistent(grid, True)
        for v in domain(hidden[k]):
            grid[hidden[k]] = v
            if consistent(grid, False) and search(k + 1):
                return True
            del grid[hidden[k]]
        return False

    return search(0)


tables = st.integers(1, 3).flatmap(
    lambda r: st.integers(1, 4).flatmap(
        lambda c: st.lists(st.lists(st.integers(0, 9), min_size=c, max_size=c), min_size=r, max_size=r)
    )
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables, st.integers(3, 5), st.booleans(), st.booleans())
def test_no_hidden_cell_can_be_recovered_from_the_shown_totals(values, threshold, row_totals, column_totals):
    table = protect(values, threshold, row_totals=row_totals, column_totals=column_totals)
    for i, row in enumerate(table.cells):
        for j, cell in enumerate(row):
            if 0 < values[i][j] < threshold:
                assert cell.state == CellState.PRIMARY and cell.display == f"<{threshold}"
            if cell.shown:
                assert cell.display == str(values[i][j])
            else:
                # Alternatives up to the whole table's size are enough to show the cell is not pinned.
                assert _alternative_exists(table, (i, j), limit=sum(map(sum, values)) + 2), (values, i, j)
    # Shown totals are the true totals, never adjusted.
    if table.row_totals is not None:
        for i, total in enumerate(table.row_totals):
            assert total.value == sum(values[i])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=1, max_size=8), st.integers(3, 6))
def test_a_series_total_never_gives_away_a_small_bar(values, threshold):
    table = protect_series([f"t{i}" for i in range(len(values))], values, threshold)
    for i, cell in enumerate(c[0] for c in table.cells):
        if not cell.shown:
            assert _alternative_exists(table, (i, 0), limit=sum(values) + 2)


def test_a_single_small_cell_takes_the_next_smallest_with_it():
    table = protect([[2, 9, 40], [30, 31, 32]], 5, rows=["a", "b"], columns=["x", "y", "z"])
    shown = table.display_rows(first_header="theme")
    assert shown[1] == ["a", "<5", SECONDARY_SYMBOL, "40", "51"]
    # Columns x and y now each hold one hidden cell under a shown total, so row b gives up its
    # cells in those columns too: a 2x2 block no total can split.
    assert shown[2] == ["b", SECONDARY_SYMBOL, SECONDARY_SYMBOL, "32", "93"]
    assert table.grand_total.display == str(2 + 9 + 40 + 30 + 31 + 32)


def test_zero_is_shown_and_large_counts_are_untouched():
    table = protect([[0, 50], [60, 70]], 5)
    assert [[c.display for c in row] for row in table.cells] == [["0", "50"], ["60", "70"]]
    assert not table.any_hidden


def test_a_row_with_nothing_left_to_hide_hides_its_total():
    table = protect_series(["a", "b"], [1, 0], 5)
    assert table.cells[0][0].display == "<5"
    assert table.column_totals[0].display == SECONDARY_SYMBOL


def test_threshold_off_shows_everything_and_bad_thresholds_are_refused():
    assert protect([[1, 2]], 1).cells[0][0].display == "1"
    assert protect_count(3, 5).display == "<5"
    assert protect_count(5, 5).display == "5"
    for bad in (2, -1, 101):
        with pytest.raises(ValueError):
            check_threshold(bad)
    with pytest.raises(ValueError):
        protect([[1, 2], [3]], 5)
    with pytest.raises(ValueError):
        protect([[-1]], 5)


def test_a_larger_table_is_protected_quickly():
    import random
    import time

    rng = random.Random(6)
    values = [[rng.choice([0, 1, 2, 3, 6, 9, 14, 30]) for _ in range(12)] for _ in range(20)]
    started = time.monotonic()
    table = protect(values, 5)
    assert time.monotonic() - started < 20
    assert all(not c.shown for row in table.cells for c in row if 0 < c.value < 5)
