"""What the pad shows after a step: read from the Pad once, on the worker thread, into an
immutable View that Kivy draws on its own (the Pad may move on meanwhile)."""

from dataclasses import dataclass
from datetime import date

from patron_ui.rows import AccountTexts, account_rows
from patron_ui.view import ChromeView, Rows
from signpad.flow import Pad, Screen
from signpad.i18n import Texts
from signpad.terms import Piece, pieces


@dataclass(frozen=True)
class PadView(ChromeView):
    """One frame of the pad's state, every text already in the patron's language."""

    screen: Screen
    queued: bool
    heading: str
    patron: str
    events: Rows
    message: str
    loans: Rows
    holds: Rows
    debts: Rows
    fields: Rows
    terms: tuple[Piece, ...]  # only while the terms show
    terms_version: str
    signer: str  # who signs next, or "" outside the signature screen


def event_rows(pad: Pad) -> Rows:
    """The idle screen's upcoming events, one row each (they may wait on the backend)."""
    tr = Texts(pad.lang)
    return tuple({"id": str(i), "title": e.title,
                  "detail": " · ".join(filter(None, (tr.moment(e.starts.astimezone()),
                                                     e.place)))}
                 for i, e in enumerate(pad.events()))


def view_of(p: Pad, library: str, events: Rows, message: str, today: date) -> PadView:
    """The pad as the screen must show it now (`events` and `message`: the idle screen's)."""
    texts = Texts(p.lang)
    form = p.form
    left = p.warning_left
    rows = account_rows(AccountTexts(p.lang), p.account, today)
    return PadView(
        screen=p.screen, lang=p.lang, texts=texts.labels(),
        notice=texts.notice(p.notice) if p.notice else "", level="warning",
        countdown=-1 if left is None else left,
        countdown_total=p.settings.account_for - p.settings.warning_after,
        offline=not p.backend.online, queued=p.queued,
        heading=texts.label(form.kind) if form else library,
        patron=p.patron.display_name if p.patron else "",
        events=events, message=message,
        loans=tuple(rows["loans"]), holds=tuple(rows["holds"]), debts=tuple(rows["debts"]),
        fields=tuple({"key": f.key, "label": f.label, "value": f.value,
                      "reported": f.key in p.reported} for f in form.fields) if form else (),
        terms=tuple(pieces(form.terms)) if form and p.screen == Screen.TERMS else (),
        terms_version=texts.label("terms_version", version=form.terms_version) if form else "",
        signer=p.signer or "",
    )
