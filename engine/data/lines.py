"""Which line of a text file each table row came from, so messages can name the right row.

The CSV reader drops blank lines (pandas) and rows with no value at all (spreadsheet exports);
after either, "row index + first data line" points at the wrong line. For a file read whole,
:func:`data_row_lines` walks its records once with the same dialect and returns each kept row's
1-based line; when the walk does not agree with what pandas read, it returns ``None`` and callers
fall back to counting.
"""

from __future__ import annotations

import csv
import re

import numpy as np

from automl_studio.engine.data.csv_format import CsvFormat

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def data_row_lines(text: str, fmt: CsvFormat, records: int, dropped: np.ndarray) -> np.ndarray | None:
    """The 1-based file line each kept row starts on, or ``None`` when it cannot be told.

    Args:
        text: the whole decoded file.
        fmt: how it was read.
        records: rows pandas read, before rows with no value were dropped.
        dropped: a mask over those rows, True for each row that was dropped.
    """
    if fmt.delimiter == " " or len(dropped) != records:
        return None  # whitespace-separated files are split by pandas' own rule
    pieces = _LINE_BREAK.split(text.lstrip("\ufeff"))
    if pieces and pieces[-1] == "":
        pieces.pop()
    lines = iter(pieces[fmt.skip_lines:])
    reader = csv.reader(lines, delimiter=fmt.delimiter, quotechar=fmt.quotechar,
                        skipinitialspace=True, strict=False)
    starts: list[int] = []
    header_pending = fmt.header_line is not None
    previous = 0
    try:
        for row in reader:
            start, previous = previous + 1, reader.line_num
            if not row:
                continue  # a blank line, which pandas skips
            if header_pending:
                header_pending = False
                continue
            starts.append(start + fmt.skip_lines)
    except csv.Error:
        return None
    if len(starts) != records:
        return None
    return np.asarray(starts, dtype=np.int64)[~dropped]
