"""Reading ad-platform exports (bot/imports/read.py): each hand-written export in
tests/data/imports/ gives exactly its figures, and each bad file a sentence naming what is wrong."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import UserError
from bot.imports.read import MAX_BYTES, MAX_ROWS, layouts, read_export, slug

DATA = Path(__file__).parent / "data" / "imports"


def read(name: str):
    return read_export((DATA / name).read_bytes(), name)


def figures(export) -> list[tuple]:
    return [
        (r.slug, r.ad_set, r.platform, r.currency, r.start, r.end, r.figures) for r in export.rows
    ]


def test_meta_ads_manager_csv():
    export = read("meta_ads_manager.csv")
    assert export.layout.key == "meta" and export.decimal == "." and export.delimiter == ","
    d16, d22, d20, d26 = (date(2026, 11, n) for n in (16, 22, 20, 26))
    assert figures(export) == [
        ("spring-launch-2026", "Lookalike 1%", "instagram", "USD", d16, d22,
         {"spend": 412.5, "impressions": 51250, "reach": 30147, "clicks": 615, "conversions": 25}),
        ("spring-launch-2026", "Retargeting", "facebook", "USD", d16, d22,
         {"spend": 187.25, "impressions": 19800, "reach": 8250, "clicks": 396, "conversions": 14}),
        ("black-friday-push", "Broad", "facebook", "USD", d20, d26,
         {"spend": 1240, "impressions": 160000, "reach": 92000, "clicks": 1920, "conversions": 62}),
    ]  # fmt: skip
    assert export.rows[0].campaign == "Spring Launch 2026"
    assert export.warnings == []  # its CPM, CTR and cost per result agree with its figures
    assert export.totals()["spend"] == {"USD": 1839.75}
    assert export.campaigns == ["spring-launch-2026", "black-friday-push"]
    assert export.dates == (d16, d26)


def test_linkedin_with_title_rows_above_the_header():
    export = read("linkedin_campaign_manager.csv")
    assert export.layout.key == "linkedin" and export.title_rows == 5
    d1, d8 = date(2026, 11, 1), date(2026, 11, 8)
    assert figures(export) == [
        ("q4-webinar-series", None, "linkedin", "USD", d1, d1,
         {"spend": 350, "impressions": 10200, "clicks": 51, "conversions": 4, "revenue": 0}),
        ("q4-webinar-series", None, "linkedin", "USD", d8, d8,
         {"spend": 420, "impressions": 12000, "clicks": 66, "conversions": 6, "revenue": 0}),
        ("hiring-brand", None, "linkedin", "USD", d1, d1,
         {"spend": 125.5, "impressions": 5020, "clicks": 22, "conversions": 0, "revenue": 0}),
    ]  # fmt: skip
    assert export.warnings == []


def test_google_ads_utf16_tab_separated_with_total_rows():
    export = read("google_ads_utf16.csv")
    assert export.layout.key == "google" and export.encoding == "utf-16"
    assert export.delimiter == "\t" and export.title_rows == 2 and export.totals_skipped == 2
    d16, d17 = date(2026, 11, 16), date(2026, 11, 17)
    assert figures(export) == [
        ("spring-launch-search", "Brand terms", "google", "EUR", d16, d16,
         {"spend": 55.2, "impressions": 2300, "clicks": 184, "conversions": 12, "revenue": 960}),
        ("spring-launch-search", "Brand terms", "google", "EUR", d17, d17,
         {"spend": 61.75, "impressions": 2470, "clicks": 190, "conversions": 13, "revenue": 1040}),
        ("spring-launch-search", "Generic", "google", "EUR", d16, d16,
         {"spend": 120, "impressions": 8000, "clicks": 160, "conversions": 4, "revenue": 320}),
    ]  # fmt: skip
    assert export.warnings == []
    # The total rows say 236.95: the rows logged add up to the same.
    assert export.totals()["spend"] == {"EUR": pytest.approx(236.95)}


def test_a_german_meta_export_with_semicolons_and_decimal_commas():
    export = read("meta_de_semicolon.csv")
    assert export.layout.key == "meta-de" and export.delimiter == ";" and export.decimal == ","
    assert export.encoding == "utf-8-sig"
    d16, d22 = date(2026, 11, 16), date(2026, 11, 22)
    assert figures(export) == [
        ("winterschlussverkauf", "Bestandskunden", "facebook", "EUR", d16, d22,
         {"spend": 1250.4, "impressions": 98000, "reach": 61250, "clicks": 1176,
          "conversions": 48}),
        ("winterschlussverkauf", "Neukunden", "facebook", "EUR", d16, d22,
         {"spend": 890, "impressions": 71200, "reach": 52000, "clicks": 712, "conversions": 22}),
    ]  # fmt: skip
    assert export.warnings == []


def test_a_csv_of_smxs_own_keys():
    export = read("smx_plain.csv")
    assert export.layout.key == "smx"
    assert [(r.slug, r.platform, r.currency, r.start, r.text) for r in export.rows] == [
        ("spring-launch", "instagram", "USD", date(2026, 11, 18), "Reel boosted"),
        ("newsletter-push", "facebook", "USD", date(2026, 11, 19), None),
    ]
    assert export.rows[0].figures == {
        "spend": 120, "impressions": 15000, "clicks": 210, "conversions": 6
    }  # fmt: skip


def _xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_export_with_typed_numbers_and_dates():
    data = _xlsx(
        [
            ["Meta ads report"],  # a title row
            ["Campaign name", "Ad set name", "Reporting starts", "Reporting ends",
             "Amount spent (EUR)", "Impressions", "Link clicks", "Results",
             "CPM (cost per 1,000 impressions) (EUR)"],
            ["Spring Launch 2026", "Lookalike 1%", datetime(2026, 11, 16), datetime(2026, 11, 22),
             412.5, 51250, 615, 25, 8.05],
            ["Spring Launch 2026", "Retargeting", "2026-11-16", "2026-11-22", 187.25, 19800, 396,
             14, 9.46],
        ]
    )  # fmt: skip
    export = read_export(data, "report.xlsx")
    assert export.kind == "xlsx" and export.title_rows == 1
    assert [(r.start, r.end, r.currency, r.figures["spend"]) for r in export.rows] == [
        (date(2026, 11, 16), date(2026, 11, 22), "EUR", 412.5),
        (date(2026, 11, 16), date(2026, 11, 22), "EUR", 187.25),
    ]
    assert export.warnings == []


def test_a_derived_column_that_disagrees_is_named_and_the_base_figures_kept():
    text = (
        "Campaign name,Reporting starts,Amount spent (USD),Impressions,"
        '"CPM (cost per 1,000 impressions) (USD)"\n'
        "Spring,2026-11-16,100.00,10000,25.00\n"
    )
    export = read_export(text.encode(), "x.csv")
    assert export.rows[0].figures == {"spend": 100, "impressions": 10000}
    assert len(export.warnings) == 1 and "Row 2" in export.warnings[0]
    assert "25.00" in export.warnings[0] and "10" in export.warnings[0]


def test_day_first_dates_are_read_day_first_for_the_whole_file():
    text = "campaign,date,spend\nx,01/11/2026,5\nx,25/11/2026,6\n"
    export = read_export(text.encode(), "x.csv")
    assert [r.start for r in export.rows] == [date(2026, 11, 1), date(2026, 11, 25)]
    us = read_export(b"campaign,date,spend\nx,11/01/2026,5\n", "x.csv")
    assert us.rows[0].start == date(2026, 11, 1)


def test_a_formula_in_a_cell_is_kept_as_text():
    export = read("bad_formula.csv")
    row = export.rows[0]
    assert row.campaign == '=HYPERLINK("http://evil.example","click me")'
    assert row.ad_set == "@SUM(A1:A9)" and row.slug == "hyperlink-http-evil-example-click-me"


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("bad_value.csv", "Row 3 of bad_value.csv, column `Impressions`: `lots` is not a number"),
        ("bad_missing_spend.csv", "has no `Amount spent (USD)` column"),
        ("bad_mixed_currency.csv", "mixes currencies: EUR (first on row 2), USD (first on row 3)"),
        ("bad_unknown_layout.csv", "I don't recognise the columns of bad_unknown_layout.csv"),
    ],
)
def test_each_bad_file_gets_its_sentence(name, said):
    with pytest.raises(UserError) as err:
        read(name)
    assert said in err.value.message
    assert "Traceback" not in err.value.message


def test_the_unknown_layout_sentence_lists_the_headers_expected():
    with pytest.raises(UserError) as err:
        read("bad_unknown_layout.csv")
    for layout in layouts():
        assert all(h in err.value.message for h in layout.identify)


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", "is not a table I can read"),
        (b"PK\x03\x04 not really a zip", "is not a table I can read"),
        (b"", "is empty"),
        (b"   \n\n", "is empty"),
        (b"x" * (MAX_BYTES + 1), "I read exports of at most 10 MB"),
        (b"Campaign name,Reporting starts,Amount spent (USD)\n", "no rows of figures"),
        (b"campaign,date,spend\nx,2026-13-40,5\n", "is not a date"),
        (b"campaign,date,spend\nx,2026-11-20,-5\n", "a figure of zero or more"),
        (b"campaign,start,end,spend\nx,2026-11-20,2026-11-10,5\n", "ends (2026-11-10) before"),
        (b"campaign,date,spend\n!!!,2026-11-20,5\n", "a campaign name smx can file"),
    ],
)
def test_files_that_cannot_be_read_get_a_sentence(data, said):
    with pytest.raises(UserError) as err:
        read_export(data, "upload.csv")
    assert said in err.value.message


def test_more_than_the_most_rows_is_refused():
    body = "campaign,date,spend\n" + "x,2026-11-20,1\n" * (MAX_ROWS + 1)
    with pytest.raises(UserError) as err:
        read_export(body.encode(), "big.csv")
    assert f"more than {MAX_ROWS:,} rows" in err.value.message


def test_slugs():
    assert slug("Spring Launch 2026 — IG") == "spring-launch-2026-ig"
    assert slug("Soldes d'été") == "soldes-d-été"
    assert slug("  ") == ""
    assert len(slug("a" * 500)) == 40


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=300).map(str.encode))
def test_any_bytes_are_read_or_refused_with_a_sentence(data):
    try:
        read_export(b"campaign,date,spend\n" + data, "f.csv")
    except UserError as err:
        assert err.message and "Traceback" not in err.message


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.one_of(st.text(max_size=8), st.sampled_from(["1,5", "1.234,5", "--", "3%"])),
                 min_size=1, max_size=6),
        max_size=8,
    )
)  # fmt: skip
def test_any_rows_under_a_known_header_are_read_or_refused_with_a_sentence(rows):
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Campaign", "Day", "Cost", "Impr.", "Clicks", "CTR"])
    writer.writerows(rows)
    try:
        export = read_export(out.getvalue().encode(), "g.csv")
    except UserError as err:
        assert err.message
    else:
        assert all(r.slug and r.start <= r.end for r in export.rows)


# -- found in review ----------------------------------------------------------------------------


def test_breakdown_rows_and_names_that_share_a_slug_are_different_rows():
    text = (
        "Campaign name,Age,Reporting starts,Reporting ends,Amount spent (USD),Impressions\n"
        "Spring Launch - US,18-24,2026-11-16,2026-11-22,100,1000\n"
        "Spring Launch - US,25-34,2026-11-16,2026-11-22,150,1500\n"
        "Spring Launch (US),18-24,2026-11-16,2026-11-22,100,1000\n"
    )
    export = read_export(text.encode(), "b.csv")
    assert len({r.key for r in export.rows}) == 3
    assert export.totals()["spend"] == {"USD": 350}


def test_the_same_row_twice_in_one_file_is_refused():
    text = (
        "Campaign name,Reporting starts,Amount spent (USD)\n"
        "Spring,2026-11-16,100\nSpring,2026-11-16,100\n"
    )
    with pytest.raises(UserError) as err:
        read_export(text.encode(), "d.csv")
    assert "Rows 2 and 3 of d.csv are the same row" in err.value.message


def test_derived_columns_do_not_decide_the_decimal_mark():
    text = (
        "Start Date,Campaign Name,Currency,Total Spent,Impressions,Clicks,Average CPM,Average CPC\n"
        '11/01/2026,Q4,USD,500,"12,000",150,41.667,3.333\n'
    )
    export = read_export(text.encode(), "li.csv")
    assert export.rows[0].figures["impressions"] == 12_000
    assert export.warnings == []


def test_a_fractional_count_is_refused_not_read_a_thousand_times_too_small():
    # 5.50 says the point is the decimal mark here, so 12.345 impressions can't be whole.
    text = "campaign,date,spend,impressions\nx,2026-11-20,5.50,12.345\n"
    with pytest.raises(UserError) as err:
        read_export(text.encode(), "c.csv")
    assert "column `impressions`: `12.345` is not a whole number" in err.value.message


def test_a_campaign_whose_name_starts_with_total_is_a_campaign():
    text = (
        "Campaign,Day,Cost,Impr.\nTotal Wellness Q4,2026-11-16,10,100\n"
        "Overall Brand,2026-11-16,20,200\nTotal: Account,--,30,300\n"
    )
    export = read_export(text.encode(), "t.csv")
    assert [r.campaign for r in export.rows] == ["Total Wellness Q4", "Overall Brand"]
    assert export.totals_skipped == 1


def test_ambiguous_slashed_dates_are_settled_by_their_periods_or_said():
    week = "campaign,start,end,spend\nx,01/11/2026,07/11/2026,5\n"
    (row,) = read_export(week.encode(), "w.csv").rows
    assert (row.start, row.end) == (date(2026, 11, 1), date(2026, 11, 7))  # a week, day first
    alone = read_export(b"campaign,date,spend\nx,03/04/2026,5\n", "a.csv")
    assert alone.rows[0].start == date(2026, 3, 4)
    assert any("read month first" in w for w in alone.warnings)


def test_a_damaged_xlsx_gets_a_sentence():
    data = bytearray(_xlsx([["Campaign name", "Reporting starts", "Amount spent (USD)"],
                            ["Spring", "2026-11-16", 5]]))  # fmt: skip
    import zipfile

    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            content = src.read(item)
            if item.filename.endswith("sheet1.xml"):
                content = content[: len(content) // 2]  # cut off mid-XML
            dst.writestr(item, content)
    with pytest.raises(UserError) as err:
        read_export(broken.getvalue(), "broken.xlsx")
    assert "is not a table I can read" in err.value.message


@pytest.mark.parametrize(
    ("cell", "said"),
    [
        ("1" * 320, "a figure smx can sum"),
        ("1e400", "an amount of money"),
    ],
)
def test_figures_are_bounded(cell, said):
    with pytest.raises(UserError) as err:
        read_export(f"campaign,date,spend\nx,2026-11-20,{cell}\n".encode(), "n.csv")
    assert said in err.value.message


@pytest.mark.parametrize("day", ["2099-11-01", "1999-12-31"])
def test_dates_are_bounded(day):
    with pytest.raises(UserError) as err:
        read_export(f"campaign,date,spend\nx,{day},5\n".encode(), "n.csv")
    assert "a reporting date smx can log" in err.value.message


def test_meta_results_that_are_no_conversions_are_not_logged_as_conversions():
    text = (
        "Campaign name,Reporting starts,Amount spent (USD),Results,Result indicator\n"
        "Reach push,2026-11-16,100,50000,reach\nLeads,2026-11-16,100,20,actions:lead\n"
    )
    export = read_export(text.encode(), "r.csv")
    assert "conversions" not in export.rows[0].figures
    assert export.rows[1].figures["conversions"] == 20
    assert "reach" in export.warnings[-1]


def test_a_currency_column_that_contradicts_the_header_is_refused():
    text = "Campaign name,Reporting starts,Amount spent (USD),Currency\nX,2026-11-16,5,EUR\n"
    with pytest.raises(UserError) as err:
        read_export(text.encode(), "c.csv")
    assert "says its currency is EUR, but its spend column is in USD" in err.value.message


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(
                st.none(),
                st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=8),
                st.integers(-5, 10**6),
                st.floats(allow_nan=True, allow_infinity=True), st.datetimes(),
            ),
            max_size=5,
        ),
        max_size=6,
    )
)  # fmt: skip
def test_any_workbook_under_a_known_header_is_read_or_refused_with_a_sentence(rows):
    data = _xlsx([["Campaign", "Day", "Cost", "Impr.", "Clicks"], *rows])
    try:
        export = read_export(data, "g.xlsx")
    except UserError as err:
        assert err.message
    else:
        for r in export.rows:
            assert r.slug and r.start <= r.end
            assert all(v >= 0 and v < 1e13 for v in r.figures.values())


def test_an_xlsx_formula_with_no_saved_result_is_refused_not_read_as_empty():
    data = _xlsx(
        [
            ["Campaign name", "Reporting starts", "Amount spent (USD)", "Impressions"],
            ["Spring", "2026-11-16", "=B9*2", 1000],  # openpyxl writes no cached value
        ]
    )
    with pytest.raises(UserError) as err:
        read_export(data, "f.xlsx")
    assert "holds a formula (`=B9*2`) with no saved result" in err.value.message


def test_a_google_ads_xlsx_export_from_tests_data():
    export = read("google_ads.xlsx")
    assert export.kind == "xlsx" and export.layout.key == "google"
    assert export.title_rows == 2 and export.totals_skipped == 1
    d18 = date(2026, 11, 18)
    assert figures(export) == [
        ("autumn-sale-search", "Brand", "google", "GBP", d18, d18,
         {"spend": 42.5, "impressions": 1700, "clicks": 85, "conversions": 5, "revenue": 300}),
        ("autumn-sale-search", "Generic", "google", "GBP", d18, d18,
         {"spend": 90, "impressions": 6000, "clicks": 120, "conversions": 2.5, "revenue": 150}),
    ]  # fmt: skip
    assert export.warnings == []  # its CTR, CPC and cost per conversion agree
