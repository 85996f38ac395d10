"""A self-contained kiosk backend with sample data (the sample accounts and a few items): for UI
work, screenshots and offline demos."""

from datetime import date, timedelta

from edge_common.errors import EdgeError
from edge_common.printer import Line
from patron_ui.models import Borrowed, Patron, Renewal
from patron_ui.sample import SampleAccounts


class SimulatedBackend(SampleAccounts):
    """Central as a few patrons and items in memory; `online` can be switched off."""

    def __init__(self, today: date | None = None) -> None:
        super().__init__(today)
        self.payments: list[tuple[list[str], int, str]] = []
        self.receipts: list[tuple[str, str, str, list[Line]]] = []
        self.items = {"40001": "Tone Pavček: Juri Muri v Afriki", "40002": "Zlata ribica (DVD)",
                      "40003": "Slovar slovenskega knjižnega jezika",
                      "40004": "Svetlana Makarovič: Pekarna Mišmaš"}

    def verify_pin(self, patron: Patron, pin: str) -> None:
        """Every sample PIN is 1234."""
        if pin != "1234":
            raise EdgeError("wrong PIN", code="pin_wrong")

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
