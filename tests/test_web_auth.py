"""Staff sign-in to the web pages: sessions, form tokens, roles, branches, lock-out, audit."""

import http.client
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from markupsafe import escape

from central.circulation import audit, signin, signin_throttle
from central.circulation.store import Store
from central.store import open_store
from central.web.auth import MAX_FIELD, MAX_FORM, Stores
from central.web.errors import EXPLAINED
from tests.web import (
    PASSWORD,
    WebServer,
    app_scope,
    check_page,
    form_token,
    sign_in,
    signed_in_client,
    staff,
    token_in,
    two_branches,
)


@pytest.fixture(scope="module")
def staffed(module_db):
    """A store with two branches and staff of each role, and its path; on each store."""
    path = module_db
    s = two_branches(path)
    staff(s, "desk", "clerk", ["center"])
    staff(s, "locky", "facilities", ["center"])
    yield path, s
    s.db.close()


@pytest.fixture(scope=app_scope)
def site(staffed):
    """The store served by a real server."""
    path, s = staffed
    server = WebServer(path)
    yield server, s
    server.stop()


def test_each_server_thread_keeps_one_store(staffed):
    """A page's transaction and the writes in it share one connection: on a new one for each
    call, an alarm acknowledged inside the page's transaction would wait for its own lock."""
    path, _ = staffed
    stores = Stores(str(path))
    mine, seen = stores.get(), []

    def elsewhere() -> None:
        theirs = stores.get()
        seen.append((theirs is stores.get(), theirs is mine))
        theirs.db.close()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert stores.get() is mine and seen == [(True, False)]
    mine.db.close()


def test_staff_member_signs_in_and_out_in_the_browser(site, chromium):
    server, s = site
    page = chromium.page()
    sign_in(page, server.url, "fac")
    assert page.url.endswith("/stats")
    assert page.locator("h1").inner_text() == "Access statistics"
    cookie = next(c for c in page.context.cookies() if c["name"] == "libedge_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.click("text=Sign out")
    assert page.url.endswith("/login")
    page.goto(f"{server.url}/fleet")
    assert page.url.endswith("/login")            # the session ended with the sign-out
    done = [(e["action"], e["outcome"]) for e in audit.entries(s, staff_id="fac")]
    assert done == [("staff.sign_out", "ok"), ("staff.sign_in", "ok")]
    page.context.close()


def test_wrong_passwords_are_refused_and_further_guesses_from_there_must_wait(site, chromium,
                                                                           tmp_path):
    server, s = site
    page = chromium.page()
    page.set_extra_http_headers({"X-Forwarded-For": "10.0.0.1"})   # as the TLS proxy says
    page.goto(f"{server.url}/login")
    check_page(page, "login", tmp_path)
    for _ in range(signin_throttle.FREE["account"]):
        sign_in(page, server.url, "locky", "not the password")
        assert page.locator("#error").get_attribute("data-code") == "login_failed"
    sign_in(page, server.url, "locky")                        # the right one, but wait first
    assert page.locator("#error").get_attribute("data-code") == "login_throttled"
    check_page(page, "login-throttled", tmp_path)
    sign_in(page, server.url, "nobody-here")                  # unknown: the same answer
    assert page.locator("#error").get_attribute("data-code") == "login_failed"
    outcomes = [e["outcome"] for e in audit.entries(s, staff_id="locky")]
    assert outcomes == ["login_throttled"] + ["login_failed"] * signin_throttle.FREE["account"]
    page.context.close()


def _attempt(server, source: str, who: str, password: str = "not the password") -> str:
    """One sign-in from `source` (as the TLS proxy names it): its refusal code, or `ok`."""
    with httpx.Client(base_url=server.url, headers={"X-Forwarded-For": source},
                      timeout=60) as client:
        token = client.get("/login").cookies["libedge_login"]
        sent = client.post("/login", data={"csrf": token, "staff": who, "password": password})
        return "ok" if sent.status_code == 303 else sent.headers["x-error-code"]


def test_parallel_guesses_are_each_counted_before_their_password_is_checked(site):
    server, s = site
    staff(s, "rush", "facilities", ["center"])
    start = threading.Barrier(40)

    def guess(_: int) -> str:
        start.wait()
        return _attempt(server, "10.0.1.1", "rush")

    with ThreadPoolExecutor(40) as pool:
        codes = list(pool.map(guess, range(40)))
    free = signin_throttle.FREE["account"]
    assert sorted(codes) == ["login_failed"] * free + ["login_throttled"] * (40 - free)
    checked = [e for e in audit.entries(s, staff_id="rush") if e["outcome"] == "login_failed"]
    assert len(checked) == free


def test_guesses_at_an_account_never_lock_its_owner_out(site):
    server, s = site
    staff(s, "boss", "admin", [])
    guesses = [_attempt(server, "10.0.2.1", "boss") for _ in range(8)]   # someone else's
    assert guesses[-1] == "login_throttled"
    assert _attempt(server, "10.0.2.2", "boss", PASSWORD) == "ok"      # the owner, at once
    assert _attempt(server, "10.0.2.1", "boss", PASSWORD) == "login_throttled"


def test_unknown_names_are_answered_exactly_like_known_ones(site):
    server, s = site
    staff(s, "known", "facilities", ["center"])
    for_known = [_attempt(server, "10.0.3.1", "known") for _ in range(6)]
    for_unknown = [_attempt(server, "10.0.3.2", "unknown") for _ in range(6)]
    assert for_known == for_unknown
    assert for_known[-1] == "login_throttled"


def test_one_source_guessing_many_names_must_wait_too(site):
    server, _ = site
    free = signin_throttle.FREE["source"]
    codes = [_attempt(server, "10.0.4.1", f"name-{i}") for i in range(free + 2)]
    assert codes == ["login_failed"] * free + ["login_throttled"] * 2
    assert _attempt(server, "10.0.4.2", "fac", PASSWORD) == "ok"      # elsewhere: no wait


def test_a_new_password_ends_every_session(site):
    server, s = site
    staff(s, "moved", "facilities", ["center"])
    with signed_in_client(server, "moved") as client:
        assert client.get("/fleet").status_code == 200
        signin.set_password(s, "moved", "a brand new password")      # `staff password`
        assert client.get("/fleet").headers["location"] == "/login"


def test_signing_out_ends_the_session_on_the_server(site):
    server, s = site
    with signed_in_client(server, "fac") as client:
        cookie = client.cookies["libedge_session"]
        out = client.post("/logout", data={"csrf": form_token(client, "/fleet")})
        assert (out.status_code, out.headers["location"]) == (303, "/login")
        assert "libedge_session" not in client.cookies         # the browser forgets it too
    entry = audit.entries(s, staff_id="fac")[0]
    assert (entry["action"], entry["subject"], entry["outcome"]) == (
        "staff.sign_out", "staff:fac", "ok")
    assert not entry["branch_id"]                                   # at no branch in particular
    with httpx.Client(base_url=server.url, cookies={"libedge_session": cookie}) as kept:
        assert kept.get("/fleet").headers["location"] == "/login"
        again = kept.post("/logout", data={"csrf": "x"})
        assert (again.status_code, again.headers["x-error-code"]) == (401, "signed_out")


def test_a_refused_sign_in_says_why_and_its_page_signs_in(site):
    server, s = site
    staff(s, "again", "facilities", ["center"])
    with httpx.Client(base_url=server.url, headers={"X-Forwarded-For": "10.0.5.1"}) as client:
        form = client.get("/login")
        token = form.cookies["libedge_login"]
        assert token_in(form.text) == token                     # the form sends its cookie's
        wrong = client.post("/login", data={"csrf": token, "staff": "again", "password": "no"})
        assert (wrong.status_code, wrong.headers["x-error-code"]) == (401, "login_failed")
        assert str(escape(EXPLAINED["login_failed"])) in wrong.text
        again = token_in(wrong.text)                            # the refusal's form, resent
        assert again == token
        right = client.post("/login", data={"csrf": again, "staff": " again ",
                                            "password": PASSWORD})
        assert (right.status_code, right.headers["location"]) == (303, "/")
        assert "libedge_login" not in client.cookies            # the form's token is spent
        assert client.get("/fleet").status_code == 200
    codes = [_answer(server, "10.0.5.2", "again")
             for _ in range(signin_throttle.FREE["account"] + 1)]
    assert codes[-2:] == [(401, "login_failed"), (429, "login_throttled")]


def _answer(server, source: str, who: str) -> tuple[int, str]:
    """A wrong password from `source`: the answer's status and code."""
    with httpx.Client(base_url=server.url, headers={"X-Forwarded-For": source}) as client:
        token = client.get("/login").cookies["libedge_login"]
        sent = client.post("/login", data={"csrf": token, "staff": who, "password": "no"})
        return sent.status_code, sent.headers["x-error-code"]


def test_forms_without_the_session_token_are_refused(site):
    server, _ = site
    with httpx.Client(base_url=server.url) as stranger:     # no sign-in form cookie
        refused = stranger.post("/login", data={"csrf": "x", "staff": "fac",
                                                "password": PASSWORD})
        assert (refused.status_code, refused.headers["x-error-code"]) == (403, "csrf_failed")
        for token in ({}, {"csrf": ""}, {"csrf": "XXXX"}):       # whatever a forged form says
            bare = stranger.post("/login", data={**token, "staff": "fac", "password": PASSWORD})
            assert (bare.status_code, bare.headers["x-error-code"]) == (403, "csrf_failed")
        stranger.get("/login")                                     # the cookie, no token field
        left_out = stranger.post("/login", data={"staff": "fac", "password": PASSWORD})
        assert (left_out.status_code, left_out.headers["x-error-code"]) == (403, "csrf_failed")
    with signed_in_client(server, "fac") as client:
        refused = client.post("/logout", data={"csrf": "forged"})
        assert (refused.status_code, refused.headers["x-error-code"]) == (403, "csrf_failed")
        left_out = client.post("/logout", data={"other": "field"})     # no token field at all
        assert (left_out.status_code, left_out.headers["x-error-code"]) == (403, "csrf_failed")
        assert client.get("/fleet").status_code == 200     # still signed in


def test_a_session_planted_before_sign_in_is_not_the_one_given(site, chromium):
    server, _ = site
    page = chromium.page()
    page.context.add_cookies([{"name": "libedge_session", "value": "planted",
                               "url": server.url}])
    sign_in(page, server.url, "fac")
    given = {c["name"]: c["value"] for c in page.context.cookies()}["libedge_session"]
    assert given != "planted" and page.url.endswith("/stats")
    page.context.close()
    with httpx.Client(base_url=server.url, cookies={"libedge_session": "planted"}) as planted:
        assert planted.get("/fleet").headers["location"] == "/login"


def test_roles_and_branches_confine_what_staff_see(site):
    server, s = site
    from central import fleet
    fleet.enrol(s.db, "lock-c", "center", "lockd")
    fleet.enrol(s.db, "lock-e", "east", "lockd")
    with signed_in_client(server, "desk") as clerk:
        refused = clerk.get("/fleet")
        assert (refused.status_code, refused.headers["x-error-code"]) == (403, "role_required")
    with signed_in_client(server, "eve") as east:
        shown = east.get("/fleet").text
        assert "lock-e" in shown and "lock-c" not in shown


def _branches(answer: httpx.Response) -> tuple[str, list[str]]:
    """The branch a page shows and those it offers."""
    assert answer.status_code == 200, answer.headers.get("x-error-code")
    return (re.search(r'<option value="(\w+)" selected>', answer.text)[1],
            re.findall(r'<option value="(\w+)"', answer.text))


def test_a_page_shows_a_branch_the_staff_member_works_at_else_a_refusal(site, tmp_path):
    server, s = site
    staff(s, "chief", "admin", [])
    with signed_in_client(server, "fac") as center:
        assert _branches(center.get("/now")) == ("center", ["center"])
        for branch, code, status in [("east", "branch_not_assigned", 403),
                                     ("nowhere", "branch_unknown", 404),
                                     ("c" * (MAX_FIELD + 1), "value_too_long", 400)]:
            got = center.get("/now", params={"branch": branch})
            assert (got.status_code, got.headers["x-error-code"]) == (status, code), branch
    with signed_in_client(server, "eve") as east:
        assert _branches(east.get("/now")) == ("east", ["east"])
    with signed_in_client(server, "chief") as admin:                # any branch, the first first
        assert _branches(admin.get("/now")) == ("center", ["center", "east"])
        assert _branches(admin.get("/now", params={"branch": "east"}))[0] == "east"
    empty = Store(open_store(str(tmp_path / "central.db")))         # a site with no branch yet
    staff(empty, "root", "admin", [])
    bare = WebServer(tmp_path / "central.db")
    try:
        with signed_in_client(bare, "root") as admin:
            got = admin.get("/now")
            assert (got.status_code, got.headers["x-error-code"]) == (404, "branch_unknown")
    finally:
        bare.stop()
        empty.db.close()


def test_oversized_forms_are_refused_with_a_code(site):
    server, _ = site
    with signed_in_client(server, "fac") as client:
        big = client.post("/logout", data={"csrf": "x" * 20_000})
        assert (big.status_code, big.headers["x-error-code"]) == (413, "form_too_large")
        long = client.post("/logout", data={"csrf": "x" * 500})
        assert (long.status_code, long.headers["x-error-code"]) == (400, "value_too_long")


def test_a_form_declared_too_large_is_refused_before_its_body_is_read(site):
    server, _ = site
    conn = http.client.HTTPConnection("127.0.0.1", server.port)
    try:
        conn.putrequest("POST", "/logout")
        conn.putheader("Content-Type", "application/x-www-form-urlencoded")
        conn.putheader("Content-Length", str(MAX_FORM * 1000))
        conn.endheaders()                         # and no body: the head alone is answered
        answer = conn.getresponse()
        assert (answer.status, answer.getheader("x-error-code")) == (413, "form_too_large")
    finally:
        conn.close()


def _form_of(size: int) -> bytes:
    """A form of exactly `size` bytes, a token and fields none of which is over the field
    bound (each character sent as three bytes, `%41`, with plain ones to make up the size)."""
    body = "csrf=x"
    while size - len(body) > 3 * MAX_FIELD + 20:
        body += "&f=" + "%41" * MAX_FIELD
    left = size - len(body) - len("&pad=")
    return (body + "&pad=" + "%41" * (left // 3) + "A" * (left % 3)).encode()


def test_forms_are_taken_up_to_their_bounds_and_refused_beyond(site):
    server, _ = site
    form = {"content-type": "application/x-www-form-urlencoded"}
    with signed_in_client(server, "fac") as client:
        def code(**sent):
            got = client.post("/logout", **sent)
            return got.status_code, got.headers["x-error-code"]

        stale = (403, "csrf_failed")                # read whole, then the token is checked
        assert code(data={"csrf": "x" * MAX_FIELD}) == stale
        assert code(data={"csrf": "x" * (MAX_FIELD + 1)}) == (400, "value_too_long")
        assert code(data={"csrf": "x", **{f"f{i}": "" for i in range(39)}}) == stale
        assert code(data={"csrf": "x", **{f"f{i}": "" for i in range(40)}}) == (
            400, "bad_request")
        for size, answer in [(MAX_FORM, stale), (MAX_FORM + 1, (413, "form_too_large"))]:
            assert code(content=_form_of(size), headers=form) == answer, size
            assert code(content=iter([_form_of(size)]), headers=form) == answer, (  # chunked
                "chunked", size)
        assert code(data={"csrf": "x"}, files={"f": ("a.txt", b"x")}) == (400, "bad_request")
        assert client.get("/fleet").status_code == 200     # still signed in


def test_a_refusal_is_a_page_with_its_code(site, chromium, tmp_path):
    server, _ = site
    page = chromium.page()
    sign_in(page, server.url, "fac")
    page.goto(f"{server.url}/stats?branch=east")
    assert page.locator("#error").get_attribute("data-code") == "branch_not_assigned"
    check_page(page, "refused", tmp_path)
    page.goto(f"{server.url}/stats?branch=east&lang=sl")        # said in the staff's language
    assert page.locator("#error").inner_text() == (
        "branch_not_assigned: Niste dodeljeni tej enoti.")
    page.context.close()


def test_a_form_left_open_after_signing_out_elsewhere_is_explained_in_slovenian(site, chromium):
    server, _ = site
    page = chromium.page()
    sign_in(page, server.url, "fac")
    page.goto(f"{server.url}/fleet?lang=sl")
    other = page.context.new_page()                     # a second tab signs out
    other.goto(f"{server.url}/fleet")
    other.click("form.signout button")
    with page.expect_response(f"{server.url}/logout") as sent:
        page.click("form.signout button")              # the first tab's form is stale now
    assert (sent.value.status, sent.value.headers["x-error-code"]) == (401, "signed_out")
    assert page.locator("#error").inner_text() == (
        "signed_out: Niste prijavljeni ali pa je vaša seja potekla: prijavite se znova.")
    page.context.close()


def test_cookies_are_secure_behind_a_tls_proxy(site):
    server, _ = site
    with httpx.Client(base_url=server.url) as plain:
        assert "secure" not in plain.get("/login").headers["set-cookie"].lower()
    with httpx.Client(base_url=server.url, headers={"X-Forwarded-Proto": "https"}) as proxied:
        cookie = proxied.get("/login").headers["set-cookie"].lower()
        assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie


def test_signing_in_works_from_the_keyboard_alone(site, chromium):
    server, _ = site
    page = chromium.page()
    page.goto(f"{server.url}/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"   # first: skip link
    for _ in range(10):
        if page.evaluate("document.activeElement.id") == "staff":
            break
        page.keyboard.press("Tab")
    page.keyboard.type("fac")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/stats")
    assert page.locator("h1").inner_text() == "Access statistics"
    page.context.close()
