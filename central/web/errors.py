"""What the web pages refuse, as an HTTP status and a stable code shown with a clear message."""

from central.circulation.errors import Forbidden, NotFound
from edge_common.errors import EdgeError


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
