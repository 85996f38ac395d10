"""What the web pages refuse, as an HTTP status and a stable code shown with a clear message."""

from central.circulation.errors import Forbidden, NotFound
from edge_common.catalogues import N_
from edge_common.errors import EdgeError

EXPLAINED = {   # what staff most often meet, said in their language (others: the message)
    "csrf_failed": N_("The form is stale or forged: reload the page and try again."),
    "role_required": N_("Your role may not see or do this."),
    "branch_not_assigned": N_("You are not assigned to that branch."),
    "branch_unknown": N_("There is no such branch."),
    "bad_date": N_("A date is not a date (YYYY-MM-DD)."),
    "bad_range": N_("The period is not valid: it ends before it starts, or half of it is"
                    " missing."),
    "range_too_long": N_("At most two years at a time."),
    "room_unknown": N_("The branch's access log has no such room."),
    "door_unknown": N_("There is no such door there."),
    "value_too_long": N_("A value is longer than any real one."),
    "form_too_large": N_("The form is too large."),
    "no_such_page": N_("There is no such page."),
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
