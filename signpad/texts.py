"""Every text the signing pad shows or prints, in English; catalogues in signpad/locale
translate them. The form's own labels and terms come from central already translated."""

from edge_common.catalogues import N_

LABELS = {
    "events": N_("Coming up at the library"),
    "no_events": N_("No events are planned right now."),
    "your_account": N_("Your loans, holds and fees"),
    "loans": N_("Loans"),
    "holds": N_("Holds"),
    "debts": N_("Unpaid fees"),
    "done": N_("Done"),
    "check_data": N_("Please check your details"),
    "check_hint": N_("If something is wrong, tap “Wrong” beside it."),
    "wrong": N_("Wrong"),
    "reported": N_("Reported"),
    "data_ok": N_("All correct"),
    "correcting": N_("The staff at the desk are correcting your details. The form will "
                     "appear again in a moment."),
    "back_to_form": N_("Something else is wrong too"),
    "terms": N_("Terms of membership"),
    "terms_version": N_("Version {version}"),
    "smaller": N_("Smaller"),
    "larger": N_("Larger"),
    "terms_read": N_("I have read the terms"),
    "sign_patron": N_("Please sign in the box"),
    "sign_guardian": N_("Parent or guardian: please sign in the box"),
    "clear": N_("Sign again"),
    "confirm": N_("Confirm"),
    "thanks": N_("Thank you!"),
    "handed_over": N_("Your signed form has been handed to the library."),
    "queued": N_("Your signature is kept on this pad. The form will be archived when the "
                 "connection to the library returns."),
    "offline_banner": N_("No connection to the library system right now."),
    "registration": N_("Registration form"),
    "renewal": N_("Membership renewal"),
    "change": N_("Change of details"),
    "guardian_consent": N_("Consent of a parent or guardian"),
    "pdf_details": N_("Details"),
    "pdf_terms": N_("Terms of membership, version {version}"),
    "pdf_signed": N_("Signed: {at}"),
    "pdf_where": N_("Signing pad: {pad} · Staff: {staff}"),
    "pdf_form": N_("Form {form}, revision {revision}"),
    "pdf_patron": N_("Signature of the member"),
    "pdf_guardian": N_("Signature of the parent or guardian"),
}

NOTICES = {
    "card_unknown": N_("This card is not known. Please ask at the desk."),
    "card_data_invalid": N_("The card could not be read. Please tap it again."),
    "patron_blocked": N_("Your account is blocked. Please ask at the desk."),
    "registration_incomplete": N_("Your registration is not complete yet. Please finish it "
                                  "at the desk."),
    "pin_protected": N_("Your account is protected with a PIN. Please look at it on a kiosk."),
    "offline": N_("The library system cannot be reached right now. Please try again."),
    "timeout": N_("The library system did not answer in time. Please try again."),
    "sign_first": N_("Please sign in the box first."),
    "signature_too_long": N_("The signature is too long. Please sign again."),
    "form_busy": N_("Please finish the form first."),
    "internal_error": N_("Something went wrong. Please ask at the desk."),
}
FALLBACK = NOTICES["internal_error"]
