"""CSV import (SEEDS 002): rows whole or rejected with a reason, strict mode, duplicates."""

import pytest

from central.circulation import catalogue, imports, patrons
from central.circulation.errors import CirculationError
from tests.circ import library

PATRONS = (
    "\ufeffsurname,first_name,category,birth_date,email,library_card,city_card,branch\n"
    "Novak,Ana,adult,1990-05-01,ana@example.org,L-1,04AABBCC,center\n"
    ",Bor,adult,,,,,center\n"                       # no surname
    "Kos,,wizard,,,,,center\n"                       # unknown category
    "Zupan,,child,2015-13-01,,,,center\n"            # bad date
    "Kranjc,,adult,,,L-1,,center\n"                  # card already used above
    "Horvat,,adult,,,L-2,zz-not-hex,center\n"        # bad city card: whole row rejected
    "Žagar,Špela,senior,,,L-3,,\n"
)
ITEMS = (
    "barcode,accession,call_number,title,author,isbn,category,branch,attachments\n"
    "B1,INV-1,821 BAR,Alamut,Bartol,978-1,book,center,\n"
    "B2,INV-2,821 BAR,Alamut,Bartol,978-1,book,siska,\n"
    "B1,INV-3,,Duplicate,,,book,center,\n"
    "D1,INV-4,,Film,,,dvd,center,booklet\n"
    "X1,INV-5,,Nowhere,,,book,mars,\n"
    "X2,INV-6,,Odd,,,vinyl,center,\n"
)


@pytest.fixture
def s(central_db):
    return library(central_db)


def test_patrons_import_with_a_report_of_rejected_rows(s):
    report = imports.import_patrons(s, PATRONS.encode())
    assert report.imported == 2
    assert [(r["line"], r["code"]) for r in report.rejected] == [
        (3, "surname_required"), (4, "category_unknown"), (5, "bad_date"), (6, "card_taken"),
        (7, "bad_card")]
    assert s.scalar("SELECT count(*) FROM patrons WHERE surname = 'Horvat'") == 0
    assert patrons.by_card(s, "04:aa:bb:cc")["first_name"] == "Ana"
    assert patrons.by_card(s, "L-3", "library")["surname"] == "Žagar"


def test_items_import_matches_titles_and_rejects_duplicates(s):
    report = imports.import_items(s, ITEMS)
    assert report.imported == 3
    assert [(r["line"], r["code"]) for r in report.rejected] == [
        (4, "barcode_taken"), (6, "branch_unknown"), (7, "category_unknown")]
    assert catalogue.resolve(s, "B2")["title_id"] == catalogue.resolve(s, "B1")["title_id"]
    assert catalogue.resolve(s, "D1")["attachments"] == "booklet"


def test_strict_import_imports_nothing_when_a_row_is_bad(s):
    report = imports.import_items(s, ITEMS, strict=True)
    assert (report.imported, report.applied) == (0, False)
    assert s.scalar("SELECT count(*) FROM items") == 0


@pytest.mark.parametrize("data, code", [
    ("surname\nNovak\n", "csv_missing_column"),
    ("surname,category,shoe_size\nNovak,adult,44\n", "csv_unknown_column"),
    (b"surname,category\n\xff\xfe\n", "csv_not_utf8"),
])
def test_broken_files_are_refused_whole(s, data, code):
    with pytest.raises(CirculationError) as exc:
        imports.import_patrons(s, data)
    assert exc.value.code == code


def test_extra_values_reject_the_row(s):
    report = imports.import_patrons(s, "surname,category\nNovak,adult,surplus\nKos,adult\n")
    assert report.imported == 1 and report.rejected[0]["code"] == "csv_extra_fields"


def test_cells_past_their_edge_reject_their_row_with_a_code(s):
    """A cell is typed by staff like an option: too long, with NUL, control or right-to-left
    override characters, an e-mail that is no address or a language the library does not
    speak rejects its row with the code that says why; the good row is imported."""
    data = ("surname,first_name,category,email,language,branch\n"
            f"{'x' * 100_000},,adult,,,center\n"
            "Kos\u202eKrad,,adult,,,center\n"
            "Kos,A\x00na,adult,,,center\n"
            "Kos,Ana,adult,nobody,,center\n"
            "Kos,Ana,adult,,klingon,center\n"
            "Kos,Ana,adult,ana@example.org,sl,center\n")
    report = imports.import_patrons(s, data)
    assert [(r["line"], r["code"]) for r in report.rejected] == [
        (2, "too_long"), (3, "bad_characters"), (4, "bad_characters"), (5, "bad_email"),
        (6, "bad_language")]
    assert report.imported == 1
