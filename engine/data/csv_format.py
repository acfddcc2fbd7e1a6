"""How a CSV file is written: its encoding, delimiter, quoting, decimal mark, header row and numbers.

Files from spreadsheets and other tools differ in all of these: a European Excel export is
``;``-separated with decimal commas (``97,31``); a DataFrame of an unnamed array has the header
``0,1,…,7,target``; an Excel range with empty cells adds trailing empty columns; money and shares
are written ``$1,234.50`` and ``12 %``. :func:`detect_format` looks at the first bytes of a file and
returns a :class:`CsvFormat`; the user can override any part of it with :class:`CsvOptions`.

The dialect comes from CleverCSV (a maintained, data-consistency based detector) and a non-UTF
encoding from charset-normalizer; the decimal mark, the header row and the number parsing are
rules of our own, stated where they are made.
"""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from automl_studio.engine.core.errors import DataError

# Only markers nobody uses as a real value. "none", "None", "-" and "n/a"-like words are values
# in many data sets (a class named "none"; pandas-dev/pandas#10647, #61788): they become missing
# only inside a column whose other values are all numbers (see SOFT_MISSING).
NA_MARKERS = (
    "", "NA", "N/A", "n/a", "#N/A", "#N/A N/A", "#NA", "<NA>", "NaN", "nan", "NAN", "-NaN", "-nan",
    "NULL", "null", "Null", "?", "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NUM!", "#NAME?",
    "1.#IND", "1.#QNAN", "-1.#IND", "-1.#QNAN",
)
SOFT_MISSING = frozenset({"-", "--", "---", "none", "None", "NONE", ".", "na", "n.a.", "missing", "Missing"})

DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", " ": "space", ":": "colon"}
_DELIMITER_ALIASES = {
    "comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|", "space": " ", "colon": ":",
}
_DECIMAL_ALIASES = {".": ".", "point": ".", "dot": ".", "period": ".", ",": ",", "comma": ","}
_CANDIDATE_DELIMITERS = [",", ";", "\t", "|"]
_DETECT_CHARS = 32 * 1024  # CleverCSV is quadratic-ish in its candidates; 32 kB is plenty
_HEADER_SAMPLE_ROWS = 60
# Charset-normalizer can name a wrong Western code page on a few accented letters; trust it over
# Windows-1252 only for a script that 1252 cannot write, with enough text to tell.
_NON_LATIN_LANGUAGES = frozenset({
    "Russian", "Ukrainian", "Bulgarian", "Serbian", "Macedonian", "Belarusian", "Kazakh", "Greek",
    "Hebrew", "Arabic", "Farsi", "Japanese", "Chinese", "Korean", "Thai", "Hindi",
})


@dataclass(frozen=True)
class CsvOptions:
    """What the user says about a CSV file; ``None`` means "detect it".

    Attributes:
        delimiter: one character (``tab``, ``comma``, ``semicolon``, ``pipe``, ``space`` accepted).
        decimal: ``.`` or ``,``.
        encoding: any Python codec name (``utf-8``, ``cp1252``, ``utf-16``...).
        header: ``True`` the first table row is a header, ``False`` there is none.

    Raises:
        DataError: an option that cannot be a delimiter, decimal mark or encoding.
    """

    delimiter: str | None = None
    decimal: str | None = None
    encoding: str | None = None
    header: bool | None = None

    def __post_init__(self) -> None:
        if self.delimiter is not None:
            object.__setattr__(self, "delimiter", parse_delimiter(self.delimiter))
        if self.decimal is not None:
            object.__setattr__(self, "decimal", parse_decimal(self.decimal))
        if self.encoding is not None:
            object.__setattr__(self, "encoding", parse_encoding(self.encoding))
        if self.delimiter is not None and self.delimiter == self.decimal and self.delimiter != ",":
            raise DataError(f"the delimiter and the decimal mark cannot both be {self.delimiter!r}")

    @property
    def is_auto(self) -> bool:
        return self == CsvOptions()


def parse_delimiter(value: str) -> str:
    """``tab``/``\\t``/``;``... → the one delimiter character; :class:`DataError` otherwise."""
    text = _DELIMITER_ALIASES.get(value.strip().lower(), value) if value.strip() else value
    if len(text) != 1 or text in "\r\n\"'" or text.isalnum() or text == ".":
        raise DataError(f"--delimiter must be one character such as ',' ';' '|' or 'tab', got {value!r}")
    return text


def parse_decimal(value: str) -> str:
    """``.``/``point`` or ``,``/``comma`` → the decimal mark; :class:`DataError` otherwise."""
    mark = _DECIMAL_ALIASES.get(value.strip().lower())
    if mark is None:
        raise DataError(f"--decimal must be '.' or ',', got {value!r}")
    return mark


def parse_encoding(value: str) -> str:
    """A codec name Python knows, normalised (``UTF8`` → ``utf-8``); :class:`DataError` otherwise."""
    try:
        name = codecs.lookup(value.strip()).name
    except LookupError as exc:
        raise DataError(f"unknown text encoding {value!r} (try utf-8, cp1252, latin-1 or utf-16)") from exc
    return "utf-8-sig" if name == "utf-8" else name


@dataclass(frozen=True)
class CsvFormat:
    """How a CSV file was read (detected, or as the user said).

    Attributes:
        encoding: the Python codec name used (``utf-8-sig`` for UTF-8 with or without a BOM).
        delimiter: the field separator.
        quotechar: the quote character (``"`` unless the file uses another).
        decimal: ``.`` or ``,``.
        thousands: the digit-group separators numbers may use (``,`` or ``.``, spaces, ``'``).
        header_line: 1-based line of the header row, or ``None`` for no header.
        skip_lines: lines before the table (an Excel ``sep=;`` line, a title).
        width: number of fields per row (the widest of the sampled rows and the header).
        names: the header's cells (stripped), padded with ``""`` to ``width``; empty without a header.
        detected: which parts were detected rather than given (``delimiter``, ``decimal``...).
    """

    encoding: str
    delimiter: str
    quotechar: str = '"'
    decimal: str = "."
    thousands: str = ","
    header_line: int | None = 1
    skip_lines: int = 0
    width: int = 0
    names: tuple[str, ...] = ()
    detected: tuple[str, ...] = ()

    @property
    def first_data_line(self) -> int:
        """1-based line of the first data row (before blank lines are skipped)."""
        return self.skip_lines + (2 if self.header_line is not None else 1)

    def describe(self) -> str:
        """One line for people, e.g. ``';' separated, decimal comma, UTF-8, header on row 1``."""
        name = DELIMITER_NAMES.get(self.delimiter)
        sep = f"{'tab' if self.delimiter == chr(9) else repr(self.delimiter)} separated"
        if name and self.delimiter not in "\t ":
            sep = f"{self.delimiter!r} separated"
        elif self.delimiter == " ":
            sep = "space separated"
        decimal = "decimal comma" if self.decimal == "," else "decimal point"
        header = f"header on row {self.header_line}" if self.header_line is not None else "no header row"
        return f"{sep}, {decimal}, {encoding_label(self.encoding)}, {header}"

    def to_dict(self) -> dict[str, Any]:
        return {"encoding": self.encoding, "delimiter": self.delimiter, "decimal": self.decimal,
                "header_line": self.header_line, "skip_lines": self.skip_lines}


def encoding_label(encoding: str) -> str:
    """A codec name as people write it: ``utf-8-sig`` → ``UTF-8``, ``cp1252`` → ``Windows-1252``."""
    name = codecs.lookup(encoding).name
    labels = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16", "utf-16-le": "UTF-16",
              "utf-16-be": "UTF-16", "utf-32": "UTF-32", "cp1252": "Windows-1252",
              "iso8859-1": "Latin-1", "latin-1": "Latin-1"}
    return labels.get(name, name.upper() if name.startswith("utf") else name)


# --- encoding ---------------------------------------------------------------------------------


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect_encoding(path: Path, raw: bytes, *, complete: bool,
                    encoding: str | None = None) -> tuple[str, str, list[str]]:
    """Chooses the text encoding of a file from its first bytes.

    Args:
        raw: the first bytes of the file.
        complete: ``raw`` is the whole file (a bad byte at its end is then not a cut character).
        encoding: the user's choice; only checked.

    Returns:
        ``(encoding, text, notes)``: a codec name, ``raw`` decoded, and what to tell the user.

    Raises:
        DataError: the bytes are not text, or not in the named encoding.
    """
    notes: list[str] = []
    if not raw:
        raise DataError(f"{path}: the file is empty")
    if encoding is not None:
        return encoding, _decode(path, raw, encoding, complete, given=True), notes
    for bom, name in _BOMS:
        if raw.startswith(bom):
            if name == "utf-16" and raw.startswith(codecs.BOM_UTF32_LE):
                continue
            try:
                return name, _decode(path, raw, name, complete, given=False), notes
            except DataError as exc:
                if name == "utf-16":
                    raise DataError(f"{path}: the file starts with a UTF-16 mark but is not UTF-16") from exc
                raise
    head = raw[:4096]
    if b"\x00" in head:
        wide = _utf16_without_bom(head)
        if wide is None:
            raise DataError(f"{path}: this is not a text file (it holds binary data); expected a CSV")
        return wide, _check_printable(path, _decode(path, raw, wide, complete, given=False)), notes
    try:
        return "utf-8-sig", _check_printable(path, _decode(path, raw, "utf-8-sig", complete, given=False,
                                                           strict=True)), notes
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
    chosen = _legacy_encoding(raw)
    notes.append(f"{path.name} is not UTF-8 (first bad byte on line {line}); read it as {chosen}")
    return chosen, _check_printable(path, raw.decode(chosen, errors="replace")), notes


def _decode(path: Path, raw: bytes, encoding: str, complete: bool, *, given: bool,
            strict: bool = False) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        # Cut at the failure only if it is the sample's truncated last character (a short
        # file is read whole, so a bad byte at its very end is a wrong encoding, not a cut).
        if not complete and exc.start >= len(raw) - 4 and exc.reason in (
                "unexpected end of data", "truncated data"):
            return raw[: exc.start].decode(encoding)
        if strict:
            raise
        line = raw[: exc.start].count(b"\n") + 1
        what = f"the file is not {encoding_label(encoding)} text"
        raise DataError(f"{path}: {what} (byte {exc.start:,}, line {line})"
                        + ("; choose another encoding" if given else "")) from exc


def _utf16_without_bom(head: bytes) -> str | None:
    even, odd = head[0::2], head[1::2]
    if len(head) >= 4 and odd.count(0) > 0.7 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if len(head) >= 4 and even.count(0) > 0.7 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def _legacy_encoding(raw: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(raw[:65536]).best()
    non_ascii = sum(b >= 0x80 for b in raw[:65536])
    if best is not None and best.language in _NON_LATIN_LANGUAGES and non_ascii >= 8:
        return str(codecs.lookup(best.encoding).name)
    try:
        raw.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _check_printable(path: Path, text: str) -> str:
    head = text[:4096]
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in head)
    if printable < 0.9 * len(head):
        raise DataError(f"{path}: this is not a text file (mostly unprintable bytes); expected a CSV")
    return text


# --- dialect, decimal mark, header ------------------------------------------------------------


def detect_format(path: Path, text: str, encoding: str, options: CsvOptions | None = None,
                  *, complete: bool = True, expected_columns: Sequence[str] = ()) -> CsvFormat:
    """Detects the delimiter, decimal mark and header row from the decoded start of a file.

    Args:
        text: the first part of the file, decoded.
        complete: ``text`` is the whole file (else its last line may be cut and is ignored).
        expected_columns: column names the caller needs (a model's inputs); a first row that
            holds all of them (up to case) is the header, whatever its values look like.

    Raises:
        DataError: the file holds no data, only blank lines.
    """
    options = options or CsvOptions()
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    if not complete and len(lines) > 1:
        lines = lines[:-1]
    skip = 0
    delimiter = options.delimiter
    detected: list[str] = []
    # Excel writes "sep=;" as the first line to name the delimiter.
    if lines and re.fullmatch(r'"?sep=(.)"?,*;*', lines[0].strip()):
        delimiter = delimiter or lines[0].strip().strip('"')[4]
        skip = 1
    body = [line for line in lines[skip:] if line.strip()]
    if not body:
        raise DataError(f"{path}: the file holds no data (only blank lines)")
    quotechar = '"'
    if delimiter is None:
        sample = "\n".join(_limited(lines[skip:], _DETECT_CHARS))
        delimiter, quotechar = _detect_dialect(sample, path)
        if _whitespace_table(lines[skip:], delimiter, quotechar):
            delimiter = " "
        if expected_columns:
            # The names the caller needs settle the delimiter of their header: a one-column file
            # of texts with spaces ("text", then "good value for money") reads as a whitespace
            # table of four columns, its header skipped as a title above it.
            for candidate in dict.fromkeys((",", ";", "\t", "|", delimiter)):
                if _names_columns(_parse_rows(body[:1], candidate, quotechar, 1), expected_columns):
                    delimiter = candidate
                    break
        detected.append("delimiter")
    rows = _parse_rows(lines[skip:], delimiter, quotechar, _HEADER_SAMPLE_ROWS + 20)
    # A title or notes above the table: leading rows far narrower than the table's rows, or
    # without a single delimiter above a table of two or more columns.
    widths = [_trimmed_width(r) for r in rows if _trimmed_width(r)]
    modal = Counter(widths).most_common(1)[0][0] if widths else 1
    lead = 0
    while lead < len(rows) - 1 and ((modal >= 3 and _trimmed_width(rows[lead]) * 2 <= modal)
                                    or (modal >= 2 and len(rows[lead]) <= 1)):
        lead += 1
    if lead:
        skip += lead  # csv.reader gives one row per line here (blank lines included)
        rows = rows[lead:]
    rows = [r for r in rows if any(c.strip() for c in r)]
    decimal = options.decimal
    if decimal is None:
        decimal = _detect_decimal(rows, delimiter)
        detected.append("decimal")
    thousands = "." if decimal == "," else ","
    if options.header is None:
        header = _names_columns(rows, expected_columns) or _looks_like_header(rows, decimal)
        detected.append("header")
    else:
        header = options.header
    if options.encoding is None:
        detected.append("encoding")
    width = max((len(r) for r in rows[:_HEADER_SAMPLE_ROWS]), default=1)
    names: tuple[str, ...] = ()
    if header and rows:
        names = tuple(c.strip() for c in rows[0]) + ("",) * max(0, width - len(rows[0]))
        width = len(names)
    header_line = None
    if header:
        header_line = skip + 1 + _blank_lines_before(lines[skip:])
    return CsvFormat(
        encoding=encoding, delimiter=delimiter, quotechar=quotechar, decimal=decimal,
        thousands=thousands, header_line=header_line,
        skip_lines=skip, width=width, names=names, detected=tuple(detected),
    )


def _limited(lines: Sequence[str], chars: int) -> list[str]:
    out: list[str] = []
    total = 0
    for line in lines:
        out.append(line)
        total += len(line) + 1
        if total >= chars:
            break
    return out


def _detect_dialect(sample: str, path: Path) -> tuple[str, str]:
    import clevercsv

    fallback = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        dialect = clevercsv.Detector().detect(sample, delimiters=_CANDIDATE_DELIMITERS)
    except Exception:  # CleverCSV raises plain errors on odd samples; then the fallback holds
        dialect = None
    if dialect is None or not dialect.delimiter or dialect.delimiter not in _CANDIDATE_DELIMITERS:
        return fallback, '"'
    return dialect.delimiter, dialect.quotechar if dialect.quotechar in ('"', "'") else '"'


def _whitespace_table(lines: Sequence[str], delimiter: str, quotechar: str) -> bool:
    """Columns aligned with runs of spaces (``0.00632  18.00   2.310``), no real delimiter."""
    sample = [line for line in lines[:100] if line.strip()]
    if len(sample) < 2 or any(delimiter in line for line in sample):
        return False
    widths = Counter(len(line.split()) for line in sample)
    width, count = widths.most_common(1)[0]
    return width >= 2 and count >= 0.9 * len(sample)


def _parse_rows(lines: Sequence[str], delimiter: str, quotechar: str, limit: int) -> list[list[str]]:
    rows: list[list[str]] = []
    if delimiter == " ":  # runs of whitespace, as pandas' sep=r"\s+"
        return [line.split() if line.strip() else [] for line in lines[:limit]]
    reader = csv.reader(lines, delimiter=delimiter, quotechar=quotechar, skipinitialspace=True)
    try:
        for row in reader:
            rows.append(row)
            if len(rows) >= limit:
                break
    except csv.Error:
        pass  # a cut or malformed quote in the sample: what was read is enough to decide
    return rows


def _blank_lines_before(lines: Sequence[str]) -> int:
    n = 0
    for line in lines:
        if line.strip():
            break
        n += 1
    return n


def _trimmed_width(row: Sequence[str]) -> int:
    n = len(row)
    while n and not row[n - 1].strip():
        n -= 1
    return n


_COMMA_DECIMAL = re.compile(r"[+-]?(\d{1,3}(\.\d{3})+|\d+)?,\d+")
_POINT_DECIMAL = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)?\.\d+([eE][+-]?\d+)?")


def _detect_decimal(rows: Sequence[list[str]], delimiter: str) -> str:
    """``,`` when the sampled numbers are written with a decimal comma, else ``.``.

    ``1,234`` alone could be a thousand and a bit or a decimal: only unambiguous cells count (a
    fraction part not of three digits, a leading 0, or digits grouped by the other mark); when
    there are none, a comma in numbers of a file not separated by commas is a decimal comma.
    """
    comma = point = ambiguous = 0
    for row in rows[:200]:
        for cell in row:
            c = _strip_decoration(cell.strip())
            if "," in c and _COMMA_DECIMAL.fullmatch(c):
                whole, _, fraction = c.lstrip("+-").rpartition(",")
                if len(fraction) != 3 or whole in ("", "0") or "." in whole or len(whole) > 3:
                    comma += 1
                else:
                    ambiguous += 1
            elif "." in c and _POINT_DECIMAL.fullmatch(c):
                whole, _, fraction = c.lstrip("+-").partition(".")
                fraction = re.split("[eE]", fraction)[0]
                if len(fraction) != 3 or whole in ("", "0") or "," in whole or len(whole) > 3:
                    point += 1
    if comma == point == 0 and ambiguous and delimiter not in (",", ""):
        return ","  # only "1,234"-like cells, in a file whose fields are not comma-separated
    return "," if comma > point else "."


def _names_columns(rows: Sequence[list[str]], expected: Sequence[str]) -> bool:
    """Whether the first row holds every expected column name (up to case, as predict matches them).

    Values cannot tell a one-column file of short texts headed ``text`` from one without a header
    (``text`` may also be a value below it); the names a model needs can.
    """
    if not expected or not rows:
        return False
    first = {_folded(c) for c in rows[0]}
    return all(_folded(n) in first for n in expected)


def _folded(name: str) -> str:
    return unicodedata.normalize("NFKC", clean_name(name)).casefold()


def _looks_like_header(rows: Sequence[list[str]], decimal: str) -> bool:
    """Whether the first row is a header, by comparing each cell with the column below it.

    A text cell above a column of numbers is a name; a number above text is data. A first row of
    distinct names where every column holds text is a header too (csv.Sniffer says "no" there,
    python/cpython#104380). Names that look numeric count when they sit above non-integer numbers
    (``0,1,…,7`` above ``0.63,2.16,…``) or are the run ``0,1,2,…`` a DataFrame writes for an
    unnamed array.
    """
    if not rows:
        return True
    first = rows[0][: max(_trimmed_width(rows[0]), 1)]
    body = rows[1:_HEADER_SAMPLE_ROWS]
    cells = [c.strip() for c in first]
    kinds = [_cell_kind(c, decimal) for c in cells]
    filled = [c for c in cells if c]
    distinct = len(set(filled)) == len(filled)
    if not body:
        return all(k == "text" for k in kinds if k != "empty") and any(k == "text" for k in kinds)
    score = 0
    for j, (cell, kind) in enumerate(zip(cells, kinds, strict=True)):
        below = [r[j].strip() for r in body if j < len(r)]
        below_kinds = [_cell_kind(v, decimal) for v in below]
        values = [k for k in below_kinds if k not in ("empty", "missing")]
        if not values or kind in ("empty", "missing"):
            continue
        numbers = sum(k != "text" for k in values) / len(values)
        if kind == "text":
            if numbers >= 0.8:
                score += 2
            elif cell in below:
                score -= 1
        elif numbers <= 0.2:
            score -= 2
        elif kind == "integer" and "number" in values and "integer" not in values:
            score += 1
    if score > 0:
        return True
    if score < 0:
        return False
    if all(k == "text" for k in kinds if k != "empty") and any(k == "text" for k in kinds):
        return distinct
    integers = [int(float(c)) for c, k in zip(cells, kinds, strict=True) if k == "integer"]
    run = len(integers) == len(cells) >= 2 and integers == list(range(integers[0], integers[0] + len(cells)))
    return run and integers[0] == 0


def _cell_kind(cell: str, decimal: str) -> str:
    if not cell:
        return "empty"
    if cell in NA_MARKERS or cell in SOFT_MISSING:
        return "missing"
    value = parse_number(cell, decimal)
    if value is None:
        return "text"
    return "integer" if re.fullmatch(r"[+-]?\d+", cell) else "number"


# --- numbers written the human way ------------------------------------------------------------


_CURRENCY = (r"(?:R|US|CA|AU|A|C|NZ|HK|S)?\$|[€£¥₹₽₩¢₺₪₫]|zł|kr\.?|Rs\.?|Fr\.|"
             r"(?:USD|EUR|GBP|CHF|JPY|CAD|AUD|SEK|NOK|DKK|PLN|CZK|INR|BRL|CNY|RUB)(?![A-Za-z])")
_SPACES = " \u00a0\u202f\u2009"


def _number_pattern(decimal: str) -> re.Pattern[str]:
    groups = r"[,'’" + _SPACES + "]" if decimal == "." else r"[.'’" + _SPACES + "]"
    dec = re.escape(decimal)
    # Digit groups of three, or India's lakh grouping (12,34,567.89).
    lakh = r"|\d{1,2}(?:,\d{2})+,\d{3}" if decimal == "." else ""
    number = (rf"(?:\d{{1,3}}(?:{groups}\d{{3}})+{lakh}|\d+)(?:{dec}\d*)?(?:[eE][+-]?\d+)?"
              rf"|{dec}\d+(?:[eE][+-]?\d+)?")
    spaces = f"[{_SPACES}]*"
    return re.compile(
        rf"(?P<open>\()?{spaces}(?P<sign1>[+\-−])?{spaces}(?P<cur1>{_CURRENCY})?{spaces}(?P<sign2>[+\-−])?"
        rf"{spaces}(?P<num>{number}){spaces}(?P<cur2>{_CURRENCY})?{spaces}(?P<pct>%)?{spaces}(?P<close>\))?"
    )


_PATTERNS = {".": _number_pattern("."), ",": _number_pattern(",")}


def parse_number(text: str, decimal: str = ".") -> float | None:
    """A number as people write it, or ``None``.

    Accepts digit groups (``1,234.5``; ``1.234,5`` / ``1 234,5`` with a decimal comma), a currency
    sign or code before or after (``$12``, ``12 €``, ``EUR 12``), a trailing percent (``12.5%`` is
    0.125) and accounting negatives (``(1,200)`` is -1200).
    """
    match = _PATTERNS[decimal].fullmatch(text.strip())
    if match is None:
        return None
    if bool(match["open"]) != bool(match["close"]) or (match["sign1"] and match["sign2"]):
        return None
    num = match["num"]
    for ch in ",.'’" + _SPACES:
        if ch != decimal:
            num = num.replace(ch, "")
    num = num.replace(decimal, ".")
    try:
        value = float(num)
    except ValueError:
        return None
    if match["open"] or (match["sign1"] or match["sign2"] or "+") in "-−":
        value = -value
    if match["pct"]:
        value /= 100.0
    return value


def _strip_decoration(cell: str) -> str:
    return re.sub(rf"^\(|\)$|{_CURRENCY}|%|[{_SPACES}]+$|^[{_SPACES}]+", "", cell)


@dataclass(frozen=True)
class ParsedColumn:
    """A text column read as numbers: the values, and how many soft markers became missing."""

    values: Any  # a float64 pandas Series
    soft_missing: int
    markers: tuple[str, ...]


def parse_number_column(series: Any, decimal: str = ".") -> ParsedColumn | None:
    """Reads a pandas column of strings as numbers, if every value is one (or a soft marker).

    ``-``, ``none`` and the like (:data:`SOFT_MISSING`) count as missing only here, in a column
    that is otherwise numeric and mostly numbers; in a text column they stay values.

    Returns:
        ``None`` when the column is not numeric.
    """
    import pandas as pd

    present = series.dropna()
    if present.empty:
        return None
    uniques = pd.unique(present.astype(str))
    lookup: dict[str, float] = {}
    soft: list[str] = []
    for value in uniques:
        number = parse_number(value, decimal)
        if number is None:
            if value.strip() in SOFT_MISSING:
                soft.append(value)
                continue
            return None
        lookup[value] = number
    if not lookup:
        return None
    text = present.astype(str)
    missing = int(text.isin(soft).sum()) if soft else 0
    if missing * 3 > len(present):
        return None
    values = series.astype(object).map(lambda v: float("nan") if pd.isna(v) else lookup.get(str(v), float("nan")))
    return ParsedColumn(values.astype("float64"), missing, tuple(sorted(soft)))


def to_numbers(series: Any, decimal: str | None = None) -> Any:
    """Any pandas column as float64 numbers; what does not read as a number becomes NaN.

    ``decimal`` ``None`` guesses the mark from the values themselves (a feature column at predict
    time no longer knows its file).
    """
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype("float64")
    present = series.dropna().astype(str)
    if decimal is None:
        decimal = _detect_decimal([list(present.iloc[:200])], "")
    uniques = pd.unique(present)
    lookup = {v: parse_number(v, decimal) for v in uniques}
    return series.astype(object).map(lambda v: _one_number(v, lookup)).astype("float64")


def _one_number(value: Any, lookup: dict[str, float | None]) -> float | None:
    import pandas as pd

    if pd.isna(value):
        return None
    if isinstance(value, str):
        return lookup.get(value)
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def clean_name(name: str) -> str:
    """A header cell without surrounding spaces or invisible format characters (BOMs, ZWSPs)."""
    return "".join(ch for ch in name if unicodedata.category(ch) != "Cf").strip()


def with_names(fmt: CsvFormat, names: tuple[str, ...]) -> CsvFormat:
    """``fmt`` with other header names (after trailing empty columns are dropped)."""
    return replace(fmt, names=names, width=len(names))
