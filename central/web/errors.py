"""What the web pages refuse, as an HTTP status and a stable code shown with a clear message."""

from central.circulation.errors import Forbidden, NotFound
from edge_common.catalogues import N_
from edge_common.errors import EdgeError

EXPLAINED = {   # every refusal the pages can give, said in the staff's language
    # signing in and out
    "signed_out": N_("You are signed out, or your session has run out: sign in again."),
    "login_failed": N_("Unknown account or wrong password."),
    "login_throttled": N_("Too many failed attempts from here: wait a little, then try again."),
    "password_too_short": N_("The password is too short."),
    "staff_unknown": N_("There is no such staff account."),
    # rights
    "role_required": N_("Your role may not see or do this."),
    "branch_not_assigned": N_("You are not assigned to that branch."),
    "forbidden": N_("You may not do this."),
    # forms and requests
    "csrf_failed": N_("The form is stale or forged: reload the page and try again."),
    "value_too_long": N_("A value is longer than any real one."),
    "bad_value": N_("A field holds a value the form does not offer."),
    "form_too_large": N_("The form is too large."),
    "request_timeout": N_("The form took too long to arrive: send it again."),
    "bad_request": N_("The request was not understood: go back and try again."),
    "no_such_page": N_("There is no such page."),
    "method_not_allowed": N_("This address cannot be opened that way: use the page's buttons"
                             " and forms."),
    "not_found": N_("There is no such record."),
    "refused": N_("The request was refused."),
    # statistics filters and exports
    "branch_unknown": N_("There is no such branch."),
    "bad_date": N_("A date is not a date (YYYY-MM-DD)."),
    "bad_range": N_("The period is not valid: it ends before it starts, or half of it is"
                    " missing."),
    "range_too_long": N_("At most two years at a time."),
    "room_unknown": N_("The branch's access log has no such room."),
    "door_unknown": N_("There is no such door there."),
    "table_unknown": N_("There is no such table to export."),
    # locks, alarms and door commands
    "device_unknown": N_("There is no such lock, or it is no longer enrolled."),
    "device_has_no_key": N_("This lock cannot take commands yet: enrol it again."),
    "alarm_unknown": N_("That alarm is no longer open: someone may have dealt with it"
                        " already."),
    "command_unknown": N_("There is no such door command."),
    "command_invalid": N_("The door command's details are not valid."),
    # whose card it is
    "bad_card": N_("A card hash is 64 hexadecimal digits."),
    "card_unknown": N_("No patron holds this card now."),
    "patron_unknown": N_("There is no such patron."),
}


class WebError(EdgeError):
    """A request the pages refuse; `status` is its HTTP status, `code` its stable code."""

    code = "bad_request"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, status: int = 400) -> None:
        super().__init__(message, code=code)
        self.status = status


def status_of(exc: EdgeError) -> int:
    """The HTTP status for a refusal: its own, 404 for unknown things, 403 for rights, else 400."""
    if isinstance(exc, WebError):
        return exc.status
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Forbidden):
        return 403
    return 400
