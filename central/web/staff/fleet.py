"""The fleet page: every device of the staff member's branches and its last reported status."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from central import fleet_view
from central.web.auth import Form, branch_choices, route, signed_in, store
from central.web.render import page
from central.web.staff import VIEW


def fleet(request: Request, form: Form) -> Response:
    """Devices with kind, branch, version, online or last seen, outbox depth and alarms."""
    session = signed_in(request, *VIEW)
    sites = [b["id"] for b in branch_choices(request, session)]
    return page(request, "fleet.html", session=session,
                devices=fleet_view.devices(store(request).db, sites=sites))


def routes() -> list[Route]:
    """The fleet page's route."""
    return [route("/fleet", fleet)]
