"""CSV that spreadsheets open safely.

A cell that starts with = + - @, a tab or a carriage return can be run as a formula by Excel,
LibreOffice or Google Sheets (CSV injection), and children's words are free text. Such cells get a
leading apostrophe, which spreadsheets show as text and hide. Files are UTF-8 with a byte order
mark so Excel reads the accents and emoji right; pandas, R and Python's csv module skip the mark.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return str(value)  # numbers are data, not formulas, even when negative
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")
