"""Writes tests/data/imports/google_ads.xlsx, the hand-made Google Ads export the tests read:
`python tests/support/make_google_xlsx.py` (run once; the file is committed). Two title rows,
the header, typed numbers and dates as Google Ads' XLSX download holds them, and its total rows."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

ROWS = [
    ["Campaign report"],
    ["November 16, 2026 - November 22, 2026"],
    ["Campaign", "Ad group", "Day", "Currency code", "Cost", "Impr.", "Clicks", "CTR",
     "Avg. CPC", "Conversions", "Conv. value", "Cost / conv."],
    ["Autumn Sale Search", "Brand", datetime(2026, 11, 18), "GBP", 42.5, 1700, 85, 0.05, 0.5,
     5, 300, 8.5],
    ["Autumn Sale Search", "Generic", datetime(2026, 11, 18), "GBP", 90.0, 6000, 120, 0.02,
     0.75, 2.5, 150, 36],
    ["Total: Account", "--", "--", "GBP", 132.5, 7700, 205, 0.0266, 0.65, 7.5, 450, 17.67],
]  # fmt: skip


def main() -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Campaign report"
    for row in ROWS:
        sheet.append(row)
    out = Path(__file__).resolve().parent.parent / "data" / "imports" / "google_ads.xlsx"
    book.save(out)
    print(out)


if __name__ == "__main__":
    main()
