"""Reading an ad platform's export (CSV or XLSX) into rows smx can log, or a sentence saying why not.

What is detected, in order:
1. **The kind of file.** An XLSX (a zip holding a workbook) is read with openpyxl, its first sheet's
   values as they are stored; anything else is text: UTF-8 with or without a byte-order mark, or
   UTF-16 as Google Ads Editor writes it (a byte-order mark, or NUL bytes between ASCII).
2. **The layout**, from the header row: the first row, among the first TITLE_ROWS, whose cells
   hold every `identify` header of one of bot/imports/layouts.yaml's layouts. Rows above it are
   titles (LinkedIn writes a few). For text, the delimiter (`,`, `;` or tab) is the one under
   which a layout's header row is found.
3. **The columns**, by each field's headers; `Amount spent (USD)` names its currency.
4. **Numbers**: thousands separators and the decimal mark are worked out once for the whole file
   (`1.234,56` and `12,5` are a decimal comma; `1,234.56` a decimal point); `--` and empty cells
   are no figure. Rates may be written with `%`.
5. **Rows**: total rows (`Total`, `Total: Account`, `Gesamt`, or no campaign but figures) are left
   out and counted; every other row is a Row, or the file is refused naming the row and column.

Derived columns (CPM, CPC, CTR, cost per result) are never stored: each is checked against the
base figures of its row, and a row whose derived figure disagrees by more than ROUNDING is listed
in the warnings. Cells are only ever read as text or numbers, never evaluated: a campaign named
`=HYPERLINK(...)` is that text.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from bot.errors import UserError
from bot.text import and_list, clip

MAX_BYTES = 10 * 1024 * 1024
MAX_FIGURE = 1e12  # as a typed note's (bot/units.py MAX_MAGNITUDE)
WHOLE = ("impressions", "reach", "clicks", "clicks_all")  # conversions may be fractional (Google)
EARLIEST = date(2000, 1, 1)
MAX_ROWS = 100_000
TITLE_ROWS = 20  # rows above the header that may be titles
ROUNDING = 0.02  # a derived column may differ from its base figures by 2% (the export rounds)
from bot.notes.parse import MAX_CAMPAIGN  # noqa: E402 (a slug as long as a typed campaign)

MONEY_FIELDS = ("spend", "revenue", "cpm", "cpc", "cost_per_result")
COUNT_FIELDS = ("impressions", "reach", "clicks", "clicks_all", "conversions")
RATE_FIELDS = ("ctr", "frequency")
NUMBER_FIELDS = (*MONEY_FIELDS, *COUNT_FIELDS, *RATE_FIELDS)
# The figures a Row keeps (the derived ones are only checked).
STORED = ("spend", "impressions", "reach", "clicks", "conversions", "revenue")
SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
EMPTY = {"", "-", "--", "—", "n/a", "na", "null", "none"}
TOTAL_WORDS = ("total", "totals", "gesamt", "summe", "grand total", "overall")


@dataclass(frozen=True)
class Layout:
    key: str
    name: str
    platform: str | None
    identify: tuple[str, ...]
    required: tuple[str, ...]
    columns: dict[str, tuple[str, ...]]
    # How the platform writes a slashed date when the file itself does not say (None: unknown)
    day_first: bool | None = None


@dataclass
class Row:
    line: int  # where it is in the file, counted as a spreadsheet numbers its rows
    campaign: str  # as the export names it
    slug: str  # the campaign smx files it under
    start: date
    end: date
    platform: str | None
    currency: str | None  # ISO code
    figures: dict[str, float]
    ad_set: str | None = None
    ad: str | None = None
    text: str | None = None
    # Every cell of the row that is no figure (the campaign as written, ad set, ad, and any
    # breakdown: age, placement, device, keyword...), by header: what tells two rows apart.
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        """What makes a row the same row in another export of the same report: where it ran,
        what it reports on and every breakdown of it, hashed (any text can be in a cell)."""
        import hashlib

        parts = [self.platform or "", self.start.isoformat(), self.end.isoformat()]
        parts += [f"{h}\x1f{v}" for h, v in self.labels]
        return hashlib.blake2b("\x1e".join(parts).encode(), digest_size=16).hexdigest()


@dataclass
class Export:
    layout: Layout
    rows: list[Row]
    totals_skipped: int = 0
    title_rows: int = 0
    kind: str = "csv"  # csv or xlsx
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str = "."
    warnings: list[str] = field(default_factory=list)

    @property
    def campaigns(self) -> list[str]:
        return list(dict.fromkeys(r.slug for r in self.rows))

    @property
    def dates(self) -> tuple[date, date] | None:
        if not self.rows:
            return None
        return min(r.start for r in self.rows), max(r.end for r in self.rows)

    def totals(self) -> dict[str, Any]:
        """Spend by currency, and the counts summed."""
        spend: dict[str, float] = {}
        out: dict[str, Any] = {k: 0.0 for k in ("impressions", "clicks", "conversions")}
        for r in self.rows:
            if "spend" in r.figures:
                code = r.currency or "USD"
                spend[code] = spend.get(code, 0.0) + r.figures["spend"]
            for k in ("impressions", "clicks", "conversions"):
                out[k] += r.figures.get(k, 0.0)
        return {"spend": spend, **out}


# --- layouts --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def layouts() -> tuple[Layout, ...]:
    import yaml

    raw = yaml.safe_load(resources.files("bot.imports").joinpath("layouts.yaml").read_text("utf-8"))
    found = []
    for item in raw["layouts"]:
        found.append(
            Layout(
                key=item["key"],
                name=item["name"],
                platform=item.get("platform"),
                identify=tuple(item["identify"]),
                required=tuple(item["required"]),
                columns={k: tuple(v) for k, v in item["columns"].items()},
                day_first=item.get("day_first"),
            )
        )
    return tuple(found)


def _norm(header: Any) -> str:
    """A header as compared: NFKC, lower case, spaces collapsed, a BOM or quotes around it gone."""
    text = unicodedata.normalize("NFKC", str(header or "")).replace("\ufeff", "")
    return " ".join(text.strip().strip('"').lower().split())


def _header_pattern(header: str) -> re.Pattern[str]:
    """`Amount spent (*)` -> a pattern whose group `cur` is the currency code in the header."""
    parts = [re.escape(p) for p in _norm(header).split("*")]
    return re.compile("^" + "(?P<cur>[a-z]{3})".join(parts) + "$")


def _layout_of(cells: list[Any]) -> Layout | None:
    have = {_norm(c) for c in cells}
    for layout in layouts():
        if all(_norm(h) in have for h in layout.identify):
            return layout
    return None


# --- the file -------------------------------------------------------------------------------------


def read_export(data: bytes, name: str = "the file") -> Export:
    """The rows of an export, or UserError with a sentence naming what is wrong."""
    shown = clip(name, 60)
    if len(data) > MAX_BYTES:
        raise UserError(
            f"{shown} is {len(data) / 1024 / 1024:.1f} MB; I read exports of at most 10 MB. "
            "Export a shorter date range, or fewer columns, and send that."
        )
    if not data.strip():
        raise UserError(f"{shown} is empty. Export the report again and send the file.")
    if data[:4] == b"PK\x03\x04":
        table, kind, encoding, delimiter = _xlsx_rows(data, shown), "xlsx", None, None
    else:
        text, encoding = _decode(data, shown)
        table, delimiter = _csv_rows(text, shown)
        kind = "csv"
    export = _read_table(table, shown)
    export.kind, export.encoding, export.delimiter = kind, encoding, delimiter
    return export


def _decode(data: bytes, shown: str) -> tuple[str, str]:
    if data[:3] == b"\xef\xbb\xbf":
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16"), "utf-16"
    head = data[:2000]
    if head.count(b"\x00") > len(head) // 4:
        # UTF-16 without a byte-order mark: the NULs sit after (LE) or before (BE) ASCII.
        encoding = "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
        return data.decode(encoding, errors="replace"), encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\x00" in head or sum(b < 9 for b in head) > 4:
        raise _not_a_table(shown)
    return data.decode("cp1252", errors="replace"), "cp1252"  # Excel's own on Windows


def _not_a_table(shown: str) -> UserError:
    return UserError(
        f"{shown} is not a table I can read. Send the report as a CSV or XLSX file, exported "
        "from Meta Ads Manager, LinkedIn Campaign Manager or Google Ads (or a CSV whose headers "
        "are campaign, date, spend, impressions, clicks, conversions)."
    )


def _csv_rows(text: str, shown: str) -> tuple[list[list[str]], str]:
    if "\x00" in text:
        raise _not_a_table(shown)
    lines = text.splitlines()
    head = "\n".join(lines[: TITLE_ROWS + 1])
    best: tuple[int, str] | None = None
    for delimiter in (",", ";", "\t"):
        try:
            rows = list(csv.reader(io.StringIO(head, newline=""), delimiter=delimiter))
        except csv.Error:
            continue
        for row in rows:
            if _layout_of(row) is not None:
                if best is None or len(row) > best[0]:
                    best = (len(row), delimiter)
                break
    if best is None:
        try:
            first = list(csv.reader(io.StringIO(head, newline="")))[:TITLE_ROWS]
        except csv.Error:
            first = []
        raise _unknown_layout(shown, first)
    delimiter = best[1]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > MAX_ROWS + TITLE_ROWS + 10:
                raise _too_many(shown)
    except csv.Error:
        raise UserError(
            f"Row {len(rows) + 1} of {shown} can't be read as CSV (a quote left open, or a stray "
            "line break inside a cell). Export the report again and send the new file; nothing "
            "was logged."
        ) from None
    return rows, delimiter


def _xlsx_rows(data: bytes, shown: str) -> list[list[Any]]:
    import zipfile

    try:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise _not_a_table(shown) from None
    except Exception as err:  # openpyxl raises its own InvalidFileException, among others
        if type(err).__name__ in ("InvalidFileException", "ReadOnlyWorkbookException"):
            raise _not_a_table(shown) from None
        raise
    try:
        sheet = book.worksheets[0]
        rows: list[list[Any]] = []
        for values in sheet.iter_rows(values_only=True):
            rows.append(list(values))
            if len(rows) > MAX_ROWS + TITLE_ROWS + 10:
                raise _too_many(shown)
        if any(v is None for row in rows for v in row):
            _no_saved_results(data, rows)
        return rows
    except UserError:
        raise
    except Exception:  # a damaged sheet: XML, zip CRC or openpyxl's own errors
        raise _not_a_table(shown) from None
    finally:
        book.close()


class Unsaved:
    """A formula cell with no saved result (a sheet written by a script and never opened in a
    spreadsheet): not a figure of zero, nor an empty cell; its row is refused."""

    def __init__(self, formula: str) -> None:
        self.formula = formula

    def __str__(self) -> str:
        return self.formula


def _no_saved_results(data: bytes, rows: list[list[Any]]) -> None:
    """Mark, in `rows`, the empty cells that hold a formula (read again, formulas kept)."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        for r, values in enumerate(book.worksheets[0].iter_rows(values_only=True)):
            if r >= len(rows):
                break
            for c, value in enumerate(values):
                if (
                    c < len(rows[r])
                    and rows[r][c] is None
                    and isinstance(value, str)
                    and value.startswith("=")
                ):
                    rows[r][c] = Unsaved(value)
    finally:
        book.close()


def _too_many(shown: str) -> UserError:
    return UserError(
        f"{shown} has more than {MAX_ROWS:,} rows; I read at most that many at a time. Export "
        "a shorter date range, or by week instead of by day, and send each file."
    )


def _unknown_layout(shown: str, rows: list[list[Any]]) -> UserError:
    first = next((r for r in rows if any(str(c or "").strip() for c in r)), [])
    seen = and_list(f"`{clip(str(c), 30)}`" for c in first[:6] if str(c or "").strip())
    expected = "; ".join(f"{lay.name}: {', '.join(lay.identify)}" for lay in layouts())
    return UserError(
        f"I don't recognise the columns of {shown}"
        + (f" (its first row starts {seen})" if seen else "")
        + f". I read exports whose header row has these columns: {expected}."
    )


# --- the table ------------------------------------------------------------------------------------


@dataclass
class _Columns:
    index: dict[str, int]  # field -> column
    header_currency: str | None  # the code an `Amount spent (USD)` header names
    names: dict[str, str]  # field -> the header as the file writes it


def _columns(layout: Layout, header: list[Any]) -> _Columns:
    normalized = [_norm(h) for h in header]
    index: dict[str, int] = {}
    names: dict[str, str] = {}
    currency = None
    for fieldname, options in layout.columns.items():
        for option in options:
            if "*" in option:
                pattern = _header_pattern(option)
                hit = next(
                    ((i, m) for i, h in enumerate(normalized) if (m := pattern.match(h))), None
                )
                if hit is not None:
                    index[fieldname] = hit[0]
                    if fieldname == "spend":
                        currency = hit[1]["cur"].upper()
                    break
            elif _norm(option) in normalized:
                index[fieldname] = normalized.index(_norm(option))
                break
        if fieldname in index:
            names[fieldname] = str(header[index[fieldname]]).strip()
    return _Columns(index, currency, names)


def _read_table(table: list[list[Any]], shown: str) -> Export:
    at = next((i for i, row in enumerate(table[: TITLE_ROWS + 1]) if _layout_of(row)), None)
    if at is None:
        raise _unknown_layout(shown, table[:TITLE_ROWS])
    layout = _layout_of(table[at])
    assert layout is not None
    cols = _columns(layout, table[at])
    _check_required(layout, cols, shown)
    body = table[at + 1 :]
    if sum(1 for cells in body if any(str(c).strip() for c in cells if c is not None)) > MAX_ROWS:
        raise _too_many(shown)
    decimal = _decimal_mark(body, cols)
    day_first, settled = _day_first(body, cols)
    if not settled and layout.day_first is not None:
        day_first, settled = layout.day_first, True  # the platform's own way of writing them
    export = Export(layout, [], title_rows=at, decimal=decimal)
    currencies: dict[str, int] = {}
    seen: dict[str, int] = {}
    not_conversions: set[str] = set()
    for offset, cells in enumerate(body):
        line = at + 2 + offset
        if not any(str(c).strip() for c in cells if c is not None):
            continue
        if _is_total(cells, cols):
            export.totals_skipped += 1
            continue
        row = _row(layout, cols, cells, line, decimal, day_first, shown, not_conversions)
        row.labels = _labels(table[at], cells, cols)
        first = seen.setdefault(row.key, line)
        if first != line:
            raise UserError(
                f"Rows {first} and {line} of {shown} are the same row (the same campaign, "
                "breakdown and dates): I would not know which to keep. Export the report "
                "again without repeated rows and send it; nothing was logged."
            )
        export.rows.append(row)
        if row.currency:
            currencies.setdefault(row.currency, line)
        _cross_check(row, cells, cols, decimal, export.warnings)
    if not export.rows:
        raise UserError(
            f"{shown} has the columns of a {layout.name} export but no rows of figures under "
            "them. Export the report with a date range that has results and send it again."
        )
    if len(export.rows) > MAX_ROWS:
        raise _too_many(shown)
    if len(currencies) > 1:
        listed = and_list(f"{code} (first on row {line})" for code, line in currencies.items())
        raise UserError(
            f"{shown} mixes currencies: {listed}. I log one currency per file so that no total "
            "adds one to another; export each ad account on its own and send each file."
        )
    if not_conversions:
        export.warnings.append(
            f"Results counted as {and_list(sorted(not_conversions)[:4])} are no conversions, so "
            "those rows were logged without conversions."
        )
    if not settled:
        export.warnings.insert(
            0,
            "Its dates, such as 01/11/2026, could be day or month first; they were read month "
            "first (January 11). If that is wrong, export the report with dates written "
            "YEAR-MONTH-DAY.",
        )
    if not currencies:
        export.warnings.insert(
            0, "The file names no currency, so its money is read as US dollars (USD)."
        )
        for row in export.rows:
            row.currency = "USD"
    return export


def _labels(header: list[Any], cells: list[Any], cols: _Columns) -> tuple[tuple[str, str], ...]:
    """Every cell that is no figure nor date, by its header (the row's identity)."""
    figure_columns = {cols.index[f] for f in (*NUMBER_FIELDS, "day", "date", "start", "end")
                      if f in cols.index}  # fmt: skip
    out = []
    for i, h in enumerate(header):
        if i in figure_columns or i >= len(cells):
            continue
        value = " ".join(str(cells[i] or "").split())
        if value:
            out.append((_norm(h), value))
    return tuple(out)


def _check_required(layout: Layout, cols: _Columns, shown: str) -> None:
    needed = list(layout.required)
    if "date" in needed and "date" not in cols.index and {"start"} <= set(cols.index):
        needed.remove("date")
    if "day" in needed and "day" not in cols.index and "start" in cols.index:
        needed.remove("day")
    missing = [f for f in needed if f not in cols.index]
    if missing:
        named = and_list(f"`{layout.columns[f][0].replace('(*)', '(USD)')}`" for f in missing)
        raise UserError(
            f"{shown} looks like a {layout.name} export but has no {named} column. Add "
            f"{'it' if len(missing) == 1 else 'them'} to the report's columns, export it again "
            "and send the file."
        )


def _cell(cells: list[Any], cols: _Columns, fieldname: str) -> Any:
    i = cols.index.get(fieldname)
    if i is None or i >= len(cells):
        return None
    return cells[i]


def _is_total(cells: list[Any], cols: _Columns) -> bool:
    """A total or summary row: its first cell is a total word alone (`Total`, `Gesamt`) or one
    followed by `:` (`Total: Account`), or it has no campaign. "Total Wellness Q4" is a campaign."""
    first = _norm(next((c for c in cells if c is not None and str(c).strip()), ""))
    campaign = _norm(_cell(cells, cols, "campaign"))
    for text in (first, campaign):
        if any(text == w or text.startswith(w + ":") for w in TOTAL_WORDS):
            return True
    return campaign in EMPTY  # figures with no campaign: a summary line


# --- values ---------------------------------------------------------------------------------------

# Strong signs of each way of writing numbers, and weaker ones (`1,234` is a thousand and more
# where a point is the decimal mark, and `1.234` where a comma is).
_COMMA_DECIMAL = re.compile(r"^-?\d{1,3}(?:\.\d{3})+,\d+$|^-?\d+,\d{1,2}$")
_POINT_DECIMAL = re.compile(r"^-?\d{1,3}(?:,\d{3})+\.\d+$|^-?\d+\.\d{1,2}$")
_COMMA_GROUPS = re.compile(r"^-?\d{1,3}(?:,\d{3})+$")
_POINT_GROUPS = re.compile(r"^-?\d{1,3}(?:\.\d{3})+$")
_STRIP = re.compile(r"[\s\u00a0\u202f'$€£¥₹%]|US\$|usd|eur|gbp", re.I)


def _decimal_mark(body: list[list[Any]], cols: _Columns) -> str:
    """`,` when the file's numbers are written with a decimal comma, else `.`."""
    comma = point = 0
    # Only the columns that are stored: a derived one (CPM 41.667, frequency 1.105) looks like a
    # number with thousands separators and would outvote the counts.
    wanted = [cols.index[f] for f in (*STORED, "clicks_all") if f in cols.index]
    for cells in body[:2000]:
        for i in wanted:
            if i >= len(cells) or not isinstance(cells[i], str):
                continue
            value = _STRIP.sub("", cells[i])
            if _COMMA_DECIMAL.match(value):
                comma += 3
            elif _POINT_DECIMAL.match(value):
                point += 3
            elif _COMMA_GROUPS.match(value):
                point += 1
            elif _POINT_GROUPS.match(value):
                comma += 1
    return "," if comma > point else "."


def _number(raw: Any, decimal: str) -> float | None:
    """A cell's number, None for an empty one; ValueError for text that is no number."""
    if isinstance(raw, Unsaved):
        raise ValueError(str(raw))
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return float(raw)
    text = str(raw).strip()
    if text.lower() in EMPTY:
        return None
    percent = text.endswith("%")
    value = _STRIP.sub("", text)
    # The thousands separator goes, and the decimal mark becomes a point.
    value = value.replace(".", "").replace(",", ".") if decimal == "," else value.replace(",", "")
    if not re.fullmatch(r"-?(?:\d+(?:\.\d*)?|\.\d+)", value):
        raise ValueError(text)
    number = float(value)
    return number / 100 if percent else number


_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%d.%m.%Y",
    "%m/%d/%Y",
    "%b %d, %Y",
    "%d %b %Y",
    "%B %d, %Y",
    "%Y%m%d",
)
_DATE_FORMATS_DAY_FIRST = tuple("%d/%m/%Y" if f == "%m/%d/%Y" else f for f in _DATE_FORMATS)


_SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})/\d{4}$")


def _day_first(body: list[list[Any]], cols: _Columns) -> tuple[bool, bool]:
    """Whether the file's `01/11/2026` dates put the day first, and whether the file says so.
    One date whose first part is past 12 settles it for the whole file (or past 12 in its
    second part, the other way). Else, with start and end columns, the reading that gives the
    shorter reporting periods wins (01/11 to 07/11 is a week read day first, half a year month
    first); else month first, as US exports write them, and the preview says it assumed so."""
    wanted = [cols.index[f] for f in ("day", "date", "start", "end") if f in cols.index]
    slashed = False
    for cells in body[:5000]:
        for i in wanted:
            match = _SLASHED.match(str(cells[i]).strip().split(" ")[0]) if i < len(cells) else None
            if match and int(match[1]) > 12:
                return True, True
            if match and int(match[2]) > 12:
                return False, True
            slashed = slashed or bool(match)
    if not slashed:
        return False, True
    if "start" in cols.index and "end" in cols.index:
        spans = {False: 0, True: 0}
        for cells in body[:5000]:
            for first in (False, True):
                try:
                    start = _date(_cell(cells, cols, "start"), first)
                    end = _date(_cell(cells, cols, "end"), first)
                except ValueError:
                    continue
                if start and end:
                    spans[first] += abs((end - start).days)
        if spans[True] != spans[False]:
            return spans[True] < spans[False], True
    return False, False


def _date(raw: Any, day_first: bool = False) -> date | None:
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, int | float) and 20_000 < raw < 80_000:
        return date(1899, 12, 30) + timedelta(days=int(raw))  # a spreadsheet's day number
    text = str(raw).strip()
    if not text or text.lower() in EMPTY:
        return None
    if re.match(r"\d{4}-\d{2}-\d{2}[T ]|\d{1,2}/\d{1,2}/\d{4} ", text):
        text = text.split("T")[0].split(" ")[0]  # a time after the date: the day is enough
    formats = _DATE_FORMATS_DAY_FIRST if day_first else _DATE_FORMATS
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def slug(name: str) -> str:
    """The campaign smx files a row under: letters and digits of any script, hyphens between
    words, lower case (`Spring Launch 2026 — IG` -> `spring-launch-2026-ig`)."""
    text = unicodedata.normalize("NFKC", name).lower()
    out: list[str] = []
    dash = False
    for ch in text:
        if unicodedata.category(ch)[0] in "LN" or (unicodedata.category(ch)[0] == "M" and out):
            if dash and out:
                out.append("-")
            out.append(ch)
            dash = False
        else:
            dash = True
    return unicodedata.normalize("NFC", "".join(out))[:MAX_CAMPAIGN].rstrip("-")


def _text(raw: Any) -> str | None:
    if raw is None:
        return None
    text = " ".join(str(raw).split())
    return text or None


def _bad(shown: str, line: int, column: str, raw: Any, what: str) -> UserError:
    if isinstance(raw, Unsaved):
        return UserError(
            f"Row {line} of {shown}, column `{clip(column, 40)}`, holds a formula "
            f"(`{clip(raw.formula, 40)}`) with no saved result: open the file in Excel or "
            "Sheets, save it and send it again; nothing was logged."
        )
    return UserError(
        f"Row {line} of {shown}, column `{clip(column, 40)}`: `{clip(str(raw), 40)}` is not "
        f"{what}. Fix that cell (or clear it) and send the file again; nothing was logged."
    )


def _row(
    layout: Layout,
    cols: _Columns,
    cells: list[Any],
    line: int,
    decimal: str,
    day_first: bool,
    shown: str,
    not_conversions: set[str],
) -> Row:
    campaign = _text(_cell(cells, cols, "campaign")) or ""
    name = slug(campaign)
    if not name:
        raise _bad(shown, line, cols.names["campaign"], campaign, "a campaign name smx can file")
    days: dict[str, date | None] = {}
    for fieldname in ("day", "date", "start", "end"):
        raw = _cell(cells, cols, fieldname)
        try:
            days[fieldname] = _date(raw, day_first)
        except ValueError:
            raise _bad(
                shown, line, cols.names[fieldname], raw, "a date (write it like 2026-11-20)"
            ) from None
    start = days["day"] or days["date"] or days["start"]
    end = days["day"] or days["date"] or days["end"] or start
    if start is None or end is None:
        field_ = next(f for f in ("day", "date", "start") if f in cols.index)
        raise _bad(shown, line, cols.names[field_], "", "a date (write it like 2026-11-20)")
    latest = datetime.now(UTC).date() + timedelta(days=1)
    for day in (start, end):
        if not EARLIEST <= day <= latest:
            field_ = next(f for f in ("day", "date", "start", "end") if f in cols.index)
            raise _bad(
                shown, line, cols.names[field_], day.isoformat(),
                "a reporting date smx can log (from 2000 up to today)",
            )  # fmt: skip
    if end < start:
        raise UserError(
            f"Row {line} of {shown} ends ({end.isoformat()}) before it starts "
            f"({start.isoformat()}). Fix the dates and send the file again; nothing was logged."
        )
    figures: dict[str, float] = {}
    for fieldname in (*STORED, "clicks_all"):
        raw = _cell(cells, cols, fieldname)
        try:
            value = _number(raw, decimal)
        except ValueError:
            what = "an amount of money" if fieldname in MONEY_FIELDS else "a number"
            raise _bad(shown, line, cols.names[fieldname], raw, what) from None
        if value is None:
            continue
        if value < 0:
            raise _bad(shown, line, cols.names[fieldname], raw, "a figure of zero or more")
        if not math.isfinite(value) or value > MAX_FIGURE:
            raise _bad(
                shown, line, cols.names[fieldname], raw, "a figure smx can sum (at most 10^12)"
            )
        if fieldname in WHOLE and (value != int(value) or str(raw).strip().endswith("%")):
            raise _bad(
                shown, line, cols.names[fieldname], raw,
                "a whole number (if it is one written with a decimal comma or point, the rest of "
                "the file reads the other way: check its thousands separators)",
            )  # fmt: skip
        figures[fieldname] = value
    kind = _text(_cell(cells, cols, "result_type"))
    if kind and "conversions" in figures and not _converts(kind):
        # Meta's Results count whatever the campaign optimises for: reach, ThruPlays, clicks.
        del figures["conversions"]
        not_conversions.add(kind)
    if "clicks" not in figures and "clicks_all" in figures:
        figures["clicks"] = figures["clicks_all"]
    figures.pop("clicks_all", None)
    currency = _currency(cells, cols, line, shown)
    platform = _platform(_cell(cells, cols, "platform"), layout)
    return Row(
        line=line,
        campaign=campaign,
        slug=name,
        start=start,
        end=end,
        platform=platform,
        currency=currency,
        figures=figures,
        ad_set=_text(_cell(cells, cols, "ad_set")),
        ad=_text(_cell(cells, cols, "ad")),
        text=_text(_cell(cells, cols, "text")),
    )


_CONVERTING = ("lead", "purchase", "conversion", "registration", "install", "subscribe",
               "signup", "sign_up", "complete", "schedule", "submit", "contact", "checkout",
               "add_payment", "donate", "trial", "application")  # fmt: skip


def _converts(kind: str) -> bool:
    """Whether a Meta result indicator counts conversions (`actions:lead`, a pixel purchase)."""
    lowered = kind.lower()
    return any(word in lowered for word in _CONVERTING)


def _currency(cells: list[Any], cols: _Columns, line: int, shown: str) -> str | None:
    raw = _text(_cell(cells, cols, "currency"))
    if raw:
        code = SYMBOLS.get(raw, raw).upper()
        if not re.fullmatch(r"[A-Z]{3}", code):
            raise _bad(shown, line, cols.names["currency"], raw, "a currency code like USD or EUR")
        if cols.header_currency and code != cols.header_currency:
            raise UserError(
                f"Row {line} of {shown} says its currency is {code}, but its spend column is "
                f"in {cols.header_currency} (`{cols.names['spend']}`). Export it again with one "
                "currency and send it; nothing was logged."
            )
        return code
    if cols.header_currency:
        return cols.header_currency
    spend = _cell(cells, cols, "spend")
    if isinstance(spend, str):
        for symbol, code in SYMBOLS.items():
            if symbol in spend:
                return code
    return None


# What a platform column may say, to smx's platform keys.
_PLATFORM_WORDS = {
    "facebook": "facebook",
    "fb": "facebook",
    "instagram": "instagram",
    "ig": "instagram",
    "messenger": "facebook",
    "audience network": "facebook",
    "threads": "instagram",
    "linkedin": "linkedin",
    "tiktok": "tiktok",
    "x": "x",
    "twitter": "x",
    "youtube": "youtube",
    "pinterest": "pinterest",
    "google": "google",
    "google ads": "google",
}


def _platform(raw: Any, layout: Layout) -> str | None:
    text = _norm(raw)
    if text and text in _PLATFORM_WORDS:
        return _PLATFORM_WORDS[text]
    return layout.platform


def _cross_check(
    row: Row, cells: list[Any], cols: _Columns, decimal: str, warnings: list[str]
) -> None:
    f = row.figures
    checks = {
        "cpm": (f.get("spend"), f.get("impressions"), 1000.0),
        "cpc": (f.get("spend"), f.get("clicks"), 1.0),
        "cost_per_result": (f.get("spend"), f.get("conversions"), 1.0),
        "ctr": (f.get("clicks"), f.get("impressions"), 1.0),
    }
    for fieldname, (top, bottom, scale) in checks.items():
        if fieldname not in cols.index or not top or not bottom:
            continue
        raw = _cell(cells, cols, fieldname)
        try:
            stated = _number(raw, decimal)
        except ValueError:
            continue
        if stated is None:
            continue
        worked = top * scale / bottom
        readings = [stated]
        if fieldname == "ctr" and not str(raw).strip().endswith("%"):
            readings.append(stated / 100)  # a CTR column of plain percents: 1.25 meaning 1.25%
        tolerance = ROUNDING * abs(worked) + (0.006 if fieldname != "ctr" else 0.00006)
        if all(abs(r - worked) > tolerance for r in readings) and len(warnings) < 6:
            warnings.append(
                f"Row {row.line}: {cols.names[fieldname]} says {clip(str(raw), 20)}, but its "
                f"own figures give {worked:.4g}; the base figures are what is logged."
            )
