"""A few sample patrons, accounts and messages in memory, as every patron screen reads them: for
UI work, screenshots and offline demos."""

from datetime import date, timedelta

from edge_common.errors import EdgeError
from edge_common.protocol.datasets import ANY_LANGUAGE
from patron_ui.models import Account, Debt, Hold, Loan, Patron


class SampleAccounts:
    """Central's accounts as a few sample patrons; `online` can be switched off."""

    def __init__(self, today: date | None = None) -> None:
        self.today = today = today or date.today()
        self.online = True
        self.patrons = {
            "04A1B2C3": Patron("p1", "Ana", "adult", email_on_file=True),
            "04B2C3D4": Patron("p2", "Bor", "child", needs_pin=True),
            "04FF0001": Patron("s1", "Staff", "staff", staff=True),
        }
        self.accounts = {
            "p1": Account(
                loans=[Loan("l1", "Ivan Cankar: Na klancu", "30001", today + timedelta(days=6),
                            True),
                       Loan("l2", "France Prešeren: Poezije", "30002", today + timedelta(days=2),
                            False, "hold_waiting"),
                       Loan("l3", "Srečko Kosovel: Integrali", "30003", today - timedelta(days=3),
                            True)],
                holds=[Hold("h1", "Drago Jančar: In ljubezen tudi", "ready", "Bežigrad",
                            pickup_by=today + timedelta(days=5)),
                       Hold("h2", "Boris Pahor: Nekropola", "waiting", "Bežigrad", position=3),
                       Hold("h3", "Alma Karlin: Sama", "in_transit", "Šiška")],
                debts=[Debt("d1", "fine", 240, "Srečko Kosovel: Integrali"),
                       Debt("d2", "reminder_fee", 150)]),
            "p2": Account(),
        }
        self.messages = {
            ANY_LANGUAGE: "Open today until 20:00. Reading room on the 2nd floor.",
            "sl": "Danes odprto do 20.00. Čitalnica je v 2. nadstropju."}

    def message(self, lang: str) -> str:
        """The sample library's message of the day."""
        return self.messages.get(lang) or self.messages.get(ANY_LANGUAGE, "")

    def identify(self, card: str, kind: str) -> Patron:
        """Look up a sample card."""
        if card not in self.patrons:
            raise EdgeError("unknown card", code="card_unknown")
        return self.patrons[card]

    def account(self, patron: Patron) -> Account:
        """The sample account."""
        return self.accounts.get(patron.ref, Account())
