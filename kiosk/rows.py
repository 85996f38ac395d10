"""The checkout screen's list of what this session borrowed, translated; no Kivy (the account's
lists are `patron_ui.rows`)."""

from kiosk.i18n import Translator
from patron_ui.models import Borrowed


def borrowed_rows(tr: Translator, borrowed: list[Borrowed]) -> list[dict]:
    """What this session borrowed, with due dates or the offline note."""
    return [{"id": b.barcode, "title": b.title or b.barcode,
             "detail": tr.label("due", date=b.due) if b.due else tr.label("offline_banner")}
            for b in borrowed]
