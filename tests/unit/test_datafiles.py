"""The CSVs beside a report: safe names, no formula injection, links under each table and chart."""

from __future__ import annotations

import csv
import io

import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from analysis.report import datafiles
from analysis.report.notebook import DATA_LINK_PLACEHOLDER, DATA_MIMETYPE


@pytest.mark.parametrize("title, slug", [
    ("Social enterprises vs NHS trusts, by staff-survey item", "social-enterprises-vs-nhs-trusts-by-staff-survey"),
    ("£900m: Café ≥ 4% «quoted»", "900m-cafe-4-quoted"),
    ("../../etc/passwd", "etc-passwd"),
    ("", "data"),
    ("!!!", "data"),
])
def test_file_names_are_slugs_that_cannot_escape_the_folder(title, slug):
    assert datafiles.slugify(title) == slug
    assert len(datafiles.slugify("word " * 40)) <= 48


@pytest.mark.parametrize("cell, expected", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
    ("\t=1+1", "'\t=1+1"),
    ("-0.4 to +5.1", "'-0.4 to +5.1"),
    ("-1.999", "-1.999"), ("-1", "-1"), ("+3.5", "+3.5"), ("-2.5e-05", "-2.5e-05"), ("-.5", "-.5"),
    ("1.5", "1.5"), ("plain text", "plain text"), ("", ""), ("a=b", "a=b"),
])
def test_formula_cells_are_neutralised_and_numbers_are_not(cell, expected):
    assert datafiles.neutralise_cell(cell) == expected


def test_safe_csv_keeps_the_table_and_adds_a_byte_order_mark_for_excel():
    text = 'name,value\n"=1+1",-3.25\n"a, b",£4\n'
    data = datafiles.safe_csv(text)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["name", "value"], ["'=1+1", "-3.25"], ["a, b", "£4"]]


def test_extract_numbers_files_in_reading_order_and_links_each_under_its_output():
    table = {"text/html": f"<figure><table></table><p>Showing 1 of 2 rows; the full table is in the "
                          f"{DATA_LINK_PLACEHOLDER}.</p></figure>",
             DATA_MIMETYPE: {"kind": "table", "title": "First table", "rows": 2, "csv": "a\n1\n2\n",
                             "intervals": {}}}
    chart = {"image/png": "AAAA", DATA_MIMETYPE: {"kind": "chart", "title": "A chart", "rows": 1, "csv": "x\n=1\n",
                                                  "title_basis": {"estimate": 1.0, "low": 0.5, "high": 1.5}}}
    cell = new_code_cell("x")
    cell.outputs = [new_output("display_data", data=table), new_output("display_data", data={"text/html": "<p/>"}),
                    new_output("display_data", data=chart)]
    nb = new_notebook(cells=[cell])
    files = datafiles.extract(nb, "my_report")
    assert [f.path for f in files] == ["my_report_data/01-first-table.csv", "my_report_data/02-a-chart.csv"]
    assert files[1].content.decode("utf-8-sig") == "x\r\n'=1\r\n"
    assert files[1].manifest()["title_basis"]["low"] == 0.5 and "content" not in files[1].manifest()
    outputs = nb.cells[0].outputs
    assert len(outputs) == 5 and all(DATA_MIMETYPE not in o["data"] for o in outputs)
    assert 'href="my_report_data/01-first-table.csv"' in outputs[1]["data"]["text/html"]
    assert 'class="data-csv" href="my_report_data/01-first-table.csv"' in outputs[0]["data"]["text/html"]
    assert 'href="my_report_data/02-a-chart.csv"' in outputs[4]["data"]["text/html"]
    assert datafiles.LINK_TEXT in outputs[4]["data"]["text/html"]
