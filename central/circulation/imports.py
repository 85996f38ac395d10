"""Import patrons and items from CSV: each row whole or not at all, with a report of rejects.

Patron columns: surname (required), first_name, category (required), birth_date, email, phone,
address, language, notify, library_card, city_card, branch, agreement (the signed
evening-hours agreement: yes or no, empty for no).
Item columns: barcode (required), accession, call_number, title (required), author, isbn,
category (required), branch (required), attachments.
Files are UTF-8 (a byte-order mark is fine), comma-separated, with a header row.
"""

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from central.circulation import bounds, catalogue, patrons
from central.circulation.errors import CirculationError, Refused
from central.circulation.store import Store

PATRON_FIELDS = {"surname", "first_name", "category", "birth_date", "email", "phone", "address",
                 "language", "notify", "library_card", "city_card", "branch", "agreement"}
YES_NO = {"yes": 1, "y": 1, "true": 1, "1": 1, "no": 0, "n": 0, "false": 0, "0": 0}
ITEM_FIELDS = {"barcode", "accession", "call_number", "title", "author", "isbn", "category",
               "branch", "attachments"}
MAX_ROWS = 2_000_000


@dataclass
class Report:
    """What an import did: rows imported and rows rejected with line, code and message."""

    imported: int = 0
    rejected: list[dict] = field(default_factory=list)
    applied: bool = True


def _rows(data: bytes | str, allowed: set[str],
          required: set[str]) -> Iterator[tuple[int, dict[str, str | None] | None]]:
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text))
    header = set(reader.fieldnames or ())
    if missing := required - header:
        raise Refused(f"missing column {sorted(missing)[0]!r}", code="csv_missing_column")
    if unknown := header - allowed:
        raise Refused(f"unknown column {sorted(unknown)[0]!r}", code="csv_unknown_column")
    for n, row in enumerate(reader, start=2):
        if n > MAX_ROWS:
            raise Refused("the file has too many rows", code="csv_too_large")
        if None in row:
            yield n, None
            continue
        yield n, {k: (v or "").strip() or None for k, v in row.items()}


def _run(s: Store, data: bytes | str, allowed: set[str], required: set[str],
         one: Callable[[Store, dict], None], strict: bool) -> Report:
    report = Report()
    try:
        rows = list(_rows(data, allowed, required))
    except UnicodeDecodeError as exc:
        raise Refused("the file is not UTF-8", code="csv_not_utf8") from exc
    except csv.Error as exc:
        raise Refused(f"the file is not valid CSV: {exc}", code="csv_invalid") from exc
    try:
        with s.atomic():
            for line, row in rows:
                _one_row(s, one, line, row, report)
            if strict and report.rejected:
                raise _Undo
    except _Undo:
        report.imported, report.applied = 0, False
    return report


class _Undo(Exception):
    """Roll a strict import back."""


def _one_row(s: Store, one: Callable[[Store, dict], None], line: int, row: dict | None,
             report: Report) -> None:
    if row is None:
        report.rejected.append({"line": line, "code": "csv_extra_fields",
                                "message": "more values than columns"})
        return
    try:
        for name, value in row.items():     # every cell is typed by staff, like an option
            if isinstance(value, str):
                bounds.check_text(name, value)
        with s.atomic():
            one(s, row)
        report.imported += 1
    except CirculationError as exc:
        report.rejected.append({"line": line, "code": exc.code, "message": str(exc)})


def _patron(s: Store, row: dict) -> None:
    for name in ("surname", "category"):
        if not row.get(name):
            raise Refused(f"{name} is required", code=f"{name}_required")
    fields: dict[str, Any] = {
        k: row[k] for k in PATRON_FIELDS - {"surname", "category", "library_card", "city_card",
                                            "branch", "agreement"} if row.get(k)}
    if row.get("agreement"):
        if (signed := YES_NO.get(row["agreement"].lower())) is None:
            raise Refused("agreement is yes or no", code="bad_agreement")
        fields["agreement"] = signed
    if row.get("branch"):
        s.branch(row["branch"])
    if row.get("library_card") and s.scalar("SELECT 1 FROM cards WHERE uid = ?",
                                            [row["library_card"]]):
        raise Refused("the library card already belongs to a patron", code="card_taken")
    pid = patrons.add_patron(s, row["surname"], row["category"], branch=row.get("branch"),
                             library_card=row.get("library_card"), **fields)
    if row.get("city_card"):
        patrons.add_card(s, pid, row["city_card"], "city")


def _item(s: Store, row: dict) -> None:
    for name in ("barcode", "title", "category", "branch"):
        if not row.get(name):
            raise Refused(f"{name} is required", code=f"{name}_required")
    if s.scalar("SELECT 1 FROM items WHERE barcode = ?", [row["barcode"]]):
        raise Refused("the barcode is already in use", code="barcode_taken")
    if row.get("accession") and s.scalar("SELECT 1 FROM items WHERE accession = ?",
                                         [row["accession"]]):
        raise Refused("the accession number is already in use", code="accession_taken")
    title_id = (row.get("isbn") and s.scalar("SELECT id FROM titles WHERE isbn = ?",
                                             [row["isbn"]])) \
        or s.scalar("SELECT id FROM titles WHERE title = ? AND author IS NOT DISTINCT FROM ?",
                    [row["title"], row.get("author")]) \
        or catalogue.add_title(s, row["title"], row.get("author"), row.get("isbn"))
    catalogue.add_item(s, row["barcode"], title_id, row["category"], row["branch"],
                       accession=row.get("accession"), call_number=row.get("call_number"),
                       attachments=row.get("attachments"))


def import_patrons(s: Store, data: bytes | str, strict: bool = False) -> Report:
    """Import patrons; with `strict`, nothing is imported if any row is rejected."""
    return _run(s, data, PATRON_FIELDS, {"surname", "category"}, _patron, strict)


def import_items(s: Store, data: bytes | str, strict: bool = False) -> Report:
    """Import titles and copies; with `strict`, nothing is imported if any row is rejected."""
    return _run(s, data, ITEM_FIELDS, {"barcode", "title", "category", "branch"}, _item, strict)
