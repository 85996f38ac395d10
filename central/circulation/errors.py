"""Circulation refusals as stable codes that devices and staff tools translate."""

from edge_common.errors import EdgeError


class CirculationError(EdgeError):
    """Root of circulation errors; `code` names the rule that refused."""

    code = "refused"


class NotFound(CirculationError, LookupError):
    """An id that names nothing (unknown patron, item, hold, payment, branch)."""

    code = "not_found"


class Refused(CirculationError, ValueError):
    """A rule says no; `code` says which."""


class Forbidden(CirculationError, PermissionError):
    """The staff member lacks the role or branch for the operation."""

    code = "forbidden"
