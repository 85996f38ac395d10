"""Sign-in for the web pages: session cookies, the form token (CSRF), roles and branches, audit."""

import secrets
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import ClientDisconnect, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from central.circulation import audit, branches, signin
from central.circulation.errors import Forbidden
from central.circulation.signin import Session
from central.circulation.store import Store
from central.database import connect
from central.web.errors import EXPLAINED, WebError
from central.web.render import page
from edge_common.errors import EdgeError

SESSION_COOKIE = "libedge_session"
LOGIN_COOKIE = "libedge_login"   # the sign-in form's token, before there is a session
MAX_FORM = 16_384                # bytes: every form here is a few short fields
MAX_FIELD = 200                  # characters in any one field or filter

Handler = Callable[[Request, "Form"], Response]
Form = dict[str, str]


class Stores:
    """One store connection per server thread, over the same database file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()

    def get(self) -> Store:
        """This thread's store."""
        if not hasattr(self._local, "store"):
            self._local.store = Store(connect(self.path))
        store: Store = self._local.store
        return store


def store(request: Request) -> Store:
    """The store of the thread serving the request."""
    stores: Stores = request.app.state.stores
    return stores.get()


def route(path: str, fn: Handler, method: str = "GET") -> Route:
    """A page served by `fn`. (Each module's `routes()` lists its pages when the app is made:
    mutmut mutates no decorated function, and cannot test code that ran at import.)"""
    return Route(path, partial(_endpoint, fn), methods=[method], name=fn.__name__)


async def _endpoint(fn: Handler, request: Request) -> Response:
    """Read the (bounded) form of a POST, then run the handler in a worker thread."""
    form = await _form(request) if request.method == "POST" else {}
    return await run_in_threadpool(fn, request, form)


async def _form(request: Request) -> Form:
    if int(request.headers.get("content-length") or 0) > MAX_FORM:
        raise WebError("the form is too large", code="form_too_large", status=413)
    try:
        body = await request.body()
    except ClientDisconnect:      # gone, or cut at the request deadline: nobody to answer
        raise WebError("the form did not arrive", code="request_timeout", status=408) from None
    if len(body) > MAX_FORM:
        raise WebError("the form is too large", code="form_too_large", status=413)
    data: FormData = await request.form(max_files=0, max_fields=40)
    return {k: _bounded(k, v) for k, v in data.items()}


def _bounded(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise WebError(f"{name}: files are not taken here", code="bad_value")
    return bounded(name, value)


def bounded(name: str, value: str) -> str:
    """A field or filter's text, refused when longer than any real one."""
    if len(value) > MAX_FIELD:
        raise WebError(f"{name}: at most {MAX_FIELD} characters", code="value_too_long")
    return value


def signed_in(request: Request, *roles: str) -> Session:
    """The session of the request's cookie, holding one of `roles`; else sign in again (a page)
    or Forbidden (`role_required`)."""
    found = current(request)
    if found is None:
        raise WebError("please sign in", code="signed_out", status=401)
    if roles and found.role not in roles:
        raise WebError(f"{found.staff_id} ({found.role}) may not see this",
                       code="role_required", status=403)
    return found


def current(request: Request) -> Session | None:
    """The live session of the request's cookie, if any (for pages anyone may see)."""
    token = request.cookies.get(SESSION_COOKIE)
    try:
        return signin.session(store(request), token) if token else None
    except EdgeError:             # the account behind it is gone
        return None


def posted(request: Request, form: Form, *roles: str) -> Session:
    """The session of a form that changes something: signed in, and the form's token is the
    session's own (else `csrf_failed`)."""
    session = signed_in(request, *roles)
    if not signin.csrf_ok(session, form.get("csrf", "")):
        raise WebError("the form is stale or forged: reload the page", code="csrf_failed",
                       status=403)
    return session


def chosen_branch(request: Request, session: Session, roles: tuple[str, ...]) -> str:
    """The branch a page is about (`?branch=`, else the first the staff member works at): it
    must exist and be theirs (admins: any)."""
    s = store(request)
    wanted = bounded("branch", request.query_params.get("branch", ""))
    if not wanted:
        mine = session.branches or [b["id"] for b in branches.listed(s)]
        if not mine:
            raise WebError("there is no branch yet", code="branch_unknown", status=404)
        wanted = mine[0]
    s.branch(wanted)
    branches.require_role(s, session.staff_id, wanted, *roles)
    return wanted


def branch_choices(request: Request, session: Session) -> list[dict[str, Any]]:
    """The branches the staff member may choose between."""
    every = branches.listed(store(request))
    return every if session.role == "admin" else [
        b for b in every if b["id"] in session.branches]


def record(request: Request, session: Session, branch: str, action: str, subject: str,
           after: dict[str, Any] | None, outcome: str) -> None:
    """Log a staff action done through the pages."""
    s = store(request)
    with s.atomic():
        audit.record(s, audit.Actor(session.staff_id, branch), action, subject, None, after,
                     outcome)


def login_page(request: Request, form: Form) -> Response:
    """The sign-in form, with a fresh form token in a cookie of its own."""
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html", csrf=token, error=None)
    _cookie(request, response, LOGIN_COOKIE, token)
    return response


def login(request: Request, form: Form) -> Response:
    """Check the password; on success a new session (never one the browser brought along)."""
    sent, expected = form.get("csrf", ""), request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(sent, expected):
        raise WebError("the form is stale or forged: reload the page", code="csrf_failed",
                       status=403)
    try:
        token = signin.sign_in(store(request), form.get("staff", "").strip(),
                               form.get("password", ""), source_of(request))
    except Forbidden as exc:
        refused = page(request, "login.html", 401 if exc.code == "login_failed" else 429,
                       csrf=expected, error=exc.code, explained=EXPLAINED[exc.code])
        refused.headers["X-Error-Code"] = exc.code
        return refused
    response = RedirectResponse("/", status_code=303)
    _cookie(request, response, SESSION_COOKIE, token)
    response.delete_cookie(LOGIN_COOKIE)
    return response


def logout(request: Request, form: Form) -> Response:
    """End the session."""
    session = posted(request, form)
    signin.sign_out(store(request), request.cookies[SESSION_COOKIE])
    record(request, session, "", "staff.sign_out", f"staff:{session.staff_id}", None, "ok")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def source_of(request: Request) -> str:
    """Where a request comes from: the client's address (the proxy's client behind a TLS proxy,
    by uvicorn's proxy headers from the proxy's own address only)."""
    return request.client.host if request.client else ""


def _cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(name, value, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


def routes() -> list[Route]:
    """The sign-in and sign-out pages' routes."""
    return [
        route("/login", login_page),
        route("/login", login, "POST"),
        route("/logout", logout, "POST"),
    ]
