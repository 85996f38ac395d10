"""The staff web app: routes, static files and refusals shown as pages with their codes."""

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from central.store import open_store
from central.web import auth
from central.web.errors import EXPLAINED, status_of
from central.web.hardening import SecurityHeaders
from central.web.render import page
from central.web.staff import fleet, now, stats
from edge_common.errors import EdgeError


def create_app(db_path: str) -> Starlette:
    """The app over central's database at `db_path` (migrated first)."""
    open_store(db_path).conn.close()
    routes = [Route("/", lambda request: RedirectResponse("/stats", status_code=303)),
              *auth.routes(), *stats.routes(), *now.routes(), *fleet.routes(),
              Mount("/static", StaticFiles(directory=Path(__file__).parent / "static"),
                    name="static")]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)],
                    exception_handlers={EdgeError: refused, HTTPException: http_error})
    app.state.stores = auth.Stores(db_path)
    return app


def from_environment() -> Starlette:
    """The app over the database named by LIBEDGE_DB (how uvicorn's worker processes make it)."""
    return create_app(os.environ["LIBEDGE_DB"])


async def refused(request: Request, exc: Exception) -> Response:
    """A refusal as a page with its status, code and message; signed out: to the sign-in."""
    assert isinstance(exc, EdgeError)
    if exc.code == "signed_out" and request.method == "GET":
        return RedirectResponse("/login", status_code=303)
    return await _error(request, status_of(exc), exc.code, str(exc))


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such page, wrong method, a malformed form) the same way."""
    assert isinstance(exc, HTTPException)
    code = {404: "no_such_page", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
    return await _error(request, exc.status_code, code, str(exc.detail))


async def _error(request: Request, status: int, code: str, message: str) -> Response:
    """The refusal page, with the pages and Sign out for staff who are signed in."""
    session = await run_in_threadpool(auth.current, request)
    response = page(request, "error.html", status, code=code, message=message,
                    explained=EXPLAINED.get(code), session=session)
    response.headers["X-Error-Code"] = code
    return response

