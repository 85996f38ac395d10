"""The staff pages against a hostile visitor: links never leave the site whatever path is asked,
messages never come from the query, every answer carries the security headers, a refused
member of staff can still move on, and slow or many clients are cut at a bound."""

import re
import socket

import httpx
import pytest

from central.web.hardening import DeadlineH11
from tests.harness import cut_while_trickling, wait_for
from tests.web import WebServer, app_scope, sign_in, signed_in_client, staff, two_branches

HREF = re.compile(r'(?:href|action)="([^"]*)"')


class QuickDeadline(DeadlineH11):
    """The deployed protocol with a 2 s deadline, so a test sees it cut."""

    deadline = 2.0


@pytest.fixture(scope="module")
def staffed(module_db):
    """Two branches, a clerk besides their facilities staff, and the store's path; on each
    store."""
    path = module_db
    s = two_branches(path)
    staff(s, "desk", "clerk", ["center"])
    yield path, s
    s.db.close()


@pytest.fixture(scope=app_scope)
def site(staffed):
    """The pages served."""
    path, s = staffed
    server = WebServer(path)
    yield server, s, path
    server.stop()


def _links(text: str) -> list[str]:
    return HREF.findall(text)


def test_links_stay_on_the_site_whatever_path_is_asked(site):
    server, _, _ = site
    with httpx.Client(base_url=server.url) as stranger:
        for path in ("/%2F%2Fevil.example", "//evil.example/x", "/%2F%2Fevil.example/now"):
            answer = stranger.get(path)
            assert answer.headers["x-error-code"] == "no_such_page"
            links = _links(answer.text)
            assert links and all(link[:1] in ("/", "#") and not link.startswith("//")
                                 for link in links), links
            assert "evil.example" not in answer.text
    with signed_in_client(server, "fac") as client:
        links = _links(client.get("/%2F%2Fevil.example").text)
        assert "/stats?lang=sl" in links and "evil.example" not in " ".join(links)
        links = _links(client.get("/fleet?lang=cs").text)
        assert "/fleet?lang=sl" in links                        # a page's own route


def test_the_done_box_shows_only_what_the_page_did(site):
    server, _, _ = site
    with signed_in_client(server, "fac") as client:
        text = client.get("/now", params={"done": "Call 555-0100 to unlock doors"}).text
        assert "Call 555-0100 to unlock doors" not in text and 'id="done"' not in text
        text = client.get("/now", params={"done": "open"}).text
        assert re.search(r'id="done">Done: Open once<', text)


def test_every_answer_carries_the_security_headers(site, chromium):
    server, _, _ = site
    with signed_in_client(server, "fac") as client:
        for path in ("/stats", "/now", "/fleet", "/login", "/nope", "/static/style.css"):
            headers = client.get(path).headers
            assert "frame-ancestors 'none'" in headers["content-security-policy"], path
            assert "default-src 'none'" in headers["content-security-policy"], path
            assert headers["x-content-type-options"] == "nosniff", path
            assert headers["referrer-policy"] == "no-referrer", path
            assert "server" not in headers, path
            if path != "/static/style.css":
                assert headers["cache-control"] == "no-store", path
    page = chromium.page()
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else 0)
    sign_in(page, server.url, "fac")
    for path in ("/stats", "/now", "/fleet"):
        page.goto(f"{server.url}{path}")
    assert refused == []                               # the pages need nothing the CSP denies
    page.context.close()


def test_a_refused_member_of_staff_can_move_on_and_sign_out(site, chromium):
    server, _, _ = site
    page = chromium.page()
    sign_in(page, server.url, "desk")                  # a clerk: the pages are not for them
    assert page.locator("#error").get_attribute("data-code") == "role_required"
    assert page.locator("nav").count() == 1
    page.click("text=Sign out")
    assert page.url.endswith("/login")
    page.context.close()


def _trickle(port: int, head: bytes, drip: bytes) -> bool:
    """Send `head`, then `drip` slowly: whether the server closed the connection meanwhile."""
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(head)
        return cut_while_trickling(conn, drip)


def test_a_request_trickled_in_is_cut_at_its_deadline(site):
    _, _, path = site
    server = WebServer(path, http=QuickDeadline)
    try:
        body = b"csrf=x&staff=fac&password=" + b"p" * 200
        head = (b"POST /login HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body))
        assert _trickle(server.port, head, body)                     # a slow body
        assert _trickle(server.port, b"GET /login HTTP/1.1\r\n", b"X-Slow: " + b"a" * 200)
        assert httpx.get(f"{server.url}/login").status_code == 200
    finally:
        server.stop()


def test_connections_beyond_the_bound_are_answered_503_and_stalled_ones_are_cut(site):
    _, _, path = site
    server = WebServer(path, http=QuickDeadline, limit_concurrency=4)
    stalled = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(4)]
    try:
        for conn in stalled:
            conn.sendall(b"GET /login HTTP/1.1\r\n")                  # and never the rest
        assert httpx.get(f"{server.url}/login").status_code == 503
        wait_for(lambda: httpx.get(f"{server.url}/login").status_code == 200,
                 what="the stalled connections cut at their deadline")
    finally:
        for conn in stalled:
            conn.close()
        server.stop()
