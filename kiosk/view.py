"""What the kiosk shows after a session step: read from the session once, on the session's
thread, into an immutable View that Kivy draws on its own (the session may move on meanwhile)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kiosk.i18n import Translator
from kiosk.maintenance import Fact
from kiosk.rows import borrowed_rows
from kiosk.session import Screen, Session
from kiosk.texts import LABELS
from patron_ui.rows import AccountTexts, account_rows
from patron_ui.view import ChromeView, Rows


@dataclass(frozen=True)
class KioskView(ChromeView):
    """One frame of the kiosk's state, every text already in the patron's language."""

    screen: Screen
    library: str
    message: str
    email_offered: bool
    patron: str
    loans: Rows
    holds: Rows
    debts: Rows
    borrowed: Rows
    restartable: bool
    facts: Rows


def view_of(s: Session, message: str, facts: Sequence[Fact], today: date) -> KioskView:
    """The session as the screen must show it now (`message`: the message of the day,
    `facts`: the maintenance screen's)."""
    tr = Translator(s.lang)
    account = s.account
    texts = {key: "" if "{" in text else tr.label(key) for key, text in LABELS.items()}
    texts["pay_all"] = tr.label("pay_all", amount=account.owed) if account else ""
    rows = account_rows(AccountTexts(s.lang), account, today)
    left = s.warning_left
    maintenance = s.screen == Screen.MAINTENANCE
    return KioskView(
        screen=s.screen, lang=s.lang, texts=texts, library=s.settings.library, message=message,
        notice=tr.notice(s.notice.code, **s.notice.params) if s.notice else "",
        level=s.notice.level if s.notice else "info",
        countdown=-1 if left is None else left,
        countdown_total=s.settings.logout_after - s.settings.warning_after,
        offline=not s.backend.online, email_offered=s.email_offered,
        patron=s.patron.display_name if s.patron else "",
        loans=tuple(rows["loans"]), holds=tuple(rows["holds"]), debts=tuple(rows["debts"]),
        borrowed=tuple(borrowed_rows(tr, s.borrowed)),
        restartable=maintenance and s.on_restart is not None,
        facts=tuple({"label": tr.label(f.label, **f.params),
                     "value": tr.label(f.value, **f.params), "level": f.level}
                    for f in facts) if maintenance else (),
    )
