"""What the box's display draws of the coordinator's `View`: every text in the patron's language,
made by a pure step into an immutable View that Kivy then only assigns."""

from dataclasses import dataclass

from patron_ui.view import ChromeView, Rows
from returnbox.display.rows import bin_rows, item_rows, staff_facts
from returnbox.i18n import Translator
from returnbox.texts import LABELS
from returnbox.views import Screen, View


@dataclass(frozen=True)
class BoxView(ChromeView):
    """One frame of the box's display, every text already in the patron's language."""

    screen: Screen
    heading: str  # the library's name, or "maintenance" on the staff view
    items: Rows
    can_print: bool
    can_email: bool
    reason: str  # the code's notice in words
    rejected: str  # the title of the item to take back
    code: str  # the code itself, for the staff a patron calls
    bins: Rows
    facts: Rows


def view_of(view: View, library: str) -> BoxView:
    """The coordinator's `view` as the display must show it (in `library`)."""
    tr = Translator(view.lang)
    last = view.items[-1] if view.items else None
    staff = view.screen == "staff"
    return BoxView(
        screen=view.screen, lang=tr.lang,
        texts={key: "" if "{" in text else tr.label(key) for key, text in LABELS.items()},
        notice="", level="info", countdown=-1, countdown_total=0,
        # the staff view tells the link's state among its facts
        offline=view.offline and not staff,
        heading=tr.label("maintenance") if staff else library,
        items=tuple(item_rows(tr, view.items)),
        can_print=view.printer, can_email=view.card and view.email_on_file,
        reason=tr.notice(view.code) if view.code else "",
        rejected=last.title or last.barcode if last and last.route == "reject" else "",
        code=tr.label("code", code=view.code) if view.code else "",
        bins=tuple(bin_rows(tr, view.staff)) if view.staff else (),
        facts=tuple(staff_facts(tr, view.staff)) if view.staff else (),
    )
