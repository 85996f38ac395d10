"""A self-contained kiosk backend with sample data: for UI work, screenshots and offline demos."""

from datetime import date, timedelta

from edge_common.errors import EdgeError
from edge_common.protocol.datasets import ANY_LANGUAGE
from kiosk.models import Account, Borrowed, Debt, Hold, Loan, Patron, Renewal
from kiosk.receipt import Line


class SimulatedBackend:
    """Central as a few patrons and items in memory; `online` can be switched off."""

    def __init__(self, today: date | None = None) -> None:
        self.today = today = today or date.today()
        self.online = True
        self.payments: list[tuple[list[str], int, str]] = []
        self.receipts: list[tuple[str, str, str, list[Line]]] = []
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
        self.items = {"40001": "Tone Pavček: Juri Muri v Afriki", "40002": "Zlata ribica (DVD)",
                      "40003": "Slovar slovenskega knjižnega jezika",
                      "40004": "Svetlana Makarovič: Pekarna Mišmaš"}

    def message(self, lang: str) -> str:
        """The sample library's message of the day."""
        return self.messages.get(lang) or self.messages.get(ANY_LANGUAGE, "")

    def identify(self, card: str, kind: str) -> Patron:
        """Look up a sample card."""
        if card not in self.patrons:
            raise EdgeError("unknown card", code="card_unknown")
        return self.patrons[card]

    def verify_pin(self, patron: Patron, pin: str) -> None:
        """Every sample PIN is 1234."""
        if pin != "1234":
            raise EdgeError("wrong PIN", code="pin_wrong")

    def account(self, patron: Patron) -> Account:
        """The sample account."""
        return self.accounts.get(patron.ref, Account())

    def checkout(self, patron: Patron, barcode: str) -> Borrowed:
        """Lend a sample item; the reference dictionary is for in-library use only."""
        if barcode not in self.items:
            raise EdgeError("unknown item", code="item_unknown")
        if barcode == "40003":
            raise EdgeError("reference", code="in_library_only")
        title = self.items[barcode]
        if not self.online:
            return Borrowed(barcode, title, None, queued=True)
        warnings = ["attachment_cd"] if "DVD" in title else []
        return Borrowed(barcode, title, self.today + timedelta(days=21), warnings)

    def renew(self, patron: Patron, loan_ids: list[str]) -> list[Renewal]:
        """Renew renewable sample loans by three weeks."""
        loans = {loan.id: loan for loan in self.account(patron).loans}
        return [Renewal(i, loans[i].title, loans[i].renewable,
                        loans[i].due + timedelta(days=21) if loans[i].renewable else None,
                        loans[i].refusal) for i in loan_ids if i in loans]

    def record_payment(self, patron: Patron, debt_ids: list[str], amount: int, ref: str) -> None:
        """Remember the payment."""
        self.payments.append((debt_ids, amount, ref))

    def email_receipt(self, patron: Patron, lang: str, subject: str, lines: list[Line]) -> None:
        """Remember the receipt that central would e-mail."""
        self.receipts.append((patron.ref, lang, subject, lines))
