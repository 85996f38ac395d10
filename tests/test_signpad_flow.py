"""The pad's flow without a screen: events, a card's account and its timeout, a form checked,
corrected, read and signed by each signer, sealed with its hash, and offline signing."""

import base64
from datetime import UTC, datetime, timedelta

from edge_common.errors import EdgeError
from edge_common.forms_hash import form_hash
from edge_common.protocol.forms import Event
from signpad.flow import TOTAL_POINTS, Pad, Screen, Settings, upcoming
from signpad.simulator import SimulatedPad
from tests.signpad_forms import form, signature

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.at = 100.0

    def __call__(self):
        return self.at


def make(signers=("patron", "guardian")):
    backend = SimulatedPad()
    backend.form = form(signers=signers)
    clock = Clock()
    pad = Pad(backend, "pad-1", Settings(lang="en", recheck_every=3.0), clock=clock,
              now=lambda: NOW)
    return pad, backend, clock


def sign_all(pad):
    for signer in list(pad.form.signers):
        assert pad.signer == signer
        s = signature(signer)
        pad.sign(s.strokes, s.width, s.height)


def test_upcoming_events_are_the_next_in_the_language_soonest_first():
    def at(days, lang=None, title="E"):
        return Event(title=title, starts=NOW + timedelta(days=days), lang=lang)
    events = [at(3, title="later"), at(-1, title="past"), at(1, "sl", "sl only"),
              at(2, "en", "en only"), at(1.5, title="all")]
    assert [e.title for e in upcoming(events, "en", NOW, 5)] == ["all", "en only", "later"]
    assert [e.title for e in upcoming(events, "sl", NOW, 2)] == ["sl only", "all"]


def test_a_card_shows_the_account_which_closes_after_the_timeout_with_a_countdown():
    pad, backend, clock = make()
    backend.form = None  # no form waiting: a waiting form takes the screen over
    pad.card("04A1B2C3")
    assert pad.screen == Screen.ACCOUNT and pad.patron.display_name == "Ana"
    assert len(pad.account.loans) == 3 and pad.warning_left is None
    clock.at += 25
    assert pad.warning_left == 5
    pad.touch()
    pad.tick()
    assert pad.screen == Screen.ACCOUNT and pad.warning_left is None
    clock.at += 30
    pad.tick()
    assert pad.screen == Screen.IDLE and pad.account is None and pad.patron is None


def test_cards_that_cannot_show_an_account_leave_a_notice():
    pad, backend, _ = make()
    pad.card("DEADBEEF")
    assert (pad.screen, pad.notice) == (Screen.IDLE, "card_unknown")
    pad.card("04B2C3D4")  # this patron's account is behind a PIN
    assert (pad.screen, pad.notice) == (Screen.IDLE, "pin_protected")
    backend.online = False
    pad.card("04A1B2C3")
    assert (pad.screen, pad.notice) == (Screen.IDLE, "offline")


def test_a_waiting_form_shows_at_the_first_tick_online_in_the_patrons_language():
    pad, backend, _ = make()
    pad.card("04A1B2C3")
    pad.tick()
    assert pad.screen == Screen.FORM and pad.lang == "sl" and pad.account is None
    pad.card("04A1B2C3")
    assert (pad.screen, pad.notice) == (Screen.FORM, "form_busy")


def test_a_waiting_form_whose_fetch_fails_is_asked_for_again_until_central_answers():
    """Online, but the first asks for the waiting form get no answer (central still coming
    up): the pad asks again after 3, 6, 12 s, not only at the moment it came online; once
    answered, it stops asking until it reconnects."""
    pad, backend, clock = make()
    waiting, backend.form = backend.form, None
    asked: list[float] = []
    answer = backend.pending_form

    def flaky():
        asked.append(clock.at)
        if len(asked) <= 3:
            raise EdgeError("no answer", code="timeout")
        return answer()

    backend.pending_form = flaky
    for _ in range(50):
        pad.tick()
        clock.at += 0.5
    assert [a - asked[0] for a in asked] == [0.0, 3.0, 9.0, 21.0] and pad.screen == Screen.IDLE
    backend.form = waiting   # the desk starts a form: central tells the pad with a command
    for _ in range(100):
        pad.tick()
        clock.at += 0.5
    assert len(asked) == 4 and pad.screen == Screen.IDLE
    backend.online = False
    pad.tick()
    backend.online = True
    pad.tick()
    assert len(asked) == 5 and pad.screen == Screen.FORM and pad.form == waiting


def test_a_wrong_field_goes_to_the_desk_and_the_fixed_revision_comes_back():
    pad, backend, clock = make()
    pad.tick()
    pad.wrong("name")
    pad.wrong("name")
    assert pad.screen == Screen.CORRECTING
    assert [(c.form, c.revision, c.field) for c in backend.corrections] == [(7, 1, "name")]
    pad.back_to_form()
    pad.data_ok()  # not while a report is open
    assert pad.screen == Screen.FORM
    pad.wrong("born")
    backend.fix("name", "Ana Novak")
    pad.tick()
    assert pad.screen == Screen.CORRECTING  # asks again only every recheck_every seconds
    clock.at += 3
    pad.tick()
    assert pad.screen == Screen.FORM and pad.form.revision == 2 and not pad.reported
    assert pad.form.fields[0].value == "Ana Novak"
    pad.show(form(revision=1))  # an older revision arriving late changes nothing
    assert pad.form.revision == 2
    pad.show(form(revision=3, signers=()))  # nobody could sign it: not shown
    assert pad.form.revision == 2


def test_each_signer_signs_then_the_pdf_and_strokes_go_out_with_their_hash():
    pad, backend, _ = make()
    pad.tick()
    pad.data_ok()
    pad.terms_read()
    assert pad.screen == Screen.SIGN and pad.signer == "patron"
    pad.sign([], 1200, 400)
    assert pad.notice == "sign_first" and not pad.signatures
    sign_all(pad)
    assert pad.screen == Screen.THANKS and not pad.queued
    [signed] = backend.signed
    assert (signed.form, signed.revision, signed.signed_at) == (7, 1, NOW)
    assert [s.signer for s in signed.signatures] == ["patron", "guardian"]
    pdf = base64.b64decode(signed.pdf)
    assert pdf.startswith(b"%PDF") and signed.sha256 == form_hash(pdf, signed.signatures)
    assert pad.form is None and pad.signatures == []  # nothing of the form kept


def test_a_form_already_on_the_pad_is_signed_offline_and_the_screen_says_so():
    pad, backend, clock = make(signers=("patron",))
    pad.tick()
    backend.online = False
    pad.data_ok()
    pad.terms_read()
    sign_all(pad)
    assert pad.screen == Screen.THANKS and pad.queued and len(backend.signed) == 1
    clock.at += 10
    pad.tick()
    assert pad.screen == Screen.IDLE and not pad.queued


def test_a_signature_longer_than_the_pdf_allows_is_refused():
    pad, backend, _ = make(signers=("patron",))
    pad.tick()
    pad.data_ok()
    pad.terms_read()
    s = signature("patron", strokes=TOTAL_POINTS // 1000 + 1, points=1000)
    pad.sign(s.strokes, s.width, s.height)
    assert pad.notice == "signature_too_long" and pad.screen == Screen.SIGN


def test_a_form_cancelled_or_erased_at_central_leaves_the_screen_and_the_pad():
    """`form_show` for the form shown, which central now refuses (cancelled at the desk, the
    member archived or erased): the pad drops it and shows the events; also when the news
    came while the pad was away, at its next connection."""
    pad, backend, clock = make()
    pad.fetch()
    assert pad.screen == Screen.FORM and pad.form is not None
    pad.data_ok()
    pad.terms_read()
    s = signature("patron")
    pad.sign(s.strokes, s.width, s.height)
    backend.form = None                          # central: form_unknown / form_closed
    pad.fetch(7)
    assert (pad.screen, pad.form, pad.signatures, pad.patron) == (Screen.IDLE, None, [], None)
    backend.form = form()
    pad.fetch()
    assert pad.screen == Screen.FORM
    pad.tick()                                   # the form shown checked: still open
    backend.online = False
    pad.tick()
    backend.form = None                          # cancelled while the pad was away
    backend.online = True
    pad.tick()
    assert (pad.screen, pad.form) == (Screen.IDLE, None)
