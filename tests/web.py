"""The staff web app for tests: a real uvicorn server on a free port over a real store, and a
headless Chromium (Debian's, driven by playwright) to use it."""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from central.circulation import branches, signin
from central.circulation.store import Store
from central.store import open_store
from central.web import hardening
from central.web.app import create_app
from provisioning.broker import free_port
from tests.harness import wait_for

SCREENSHOTS = Path(__file__).parent.parent / "docs" / "screenshots"
AXE = Path(__file__).parent.parent / "build" / "axe-core-4.14.1" / "axe.min.js"
PASSWORD = "correct horse battery"


def app_scope(fixture_name: str, config: pytest.Config) -> str:
    """The scope of a fixture that makes the app: its module, but each test under mutmut. mutmut
    runs a mutant against the tests during which its function ran, and the routes of each
    module (`routes()`) run when the app is made: made once, they count for one test only."""
    return "function" if "MUTANT_UNDER_TEST" in os.environ else "module"


class WebServer:
    """The app under uvicorn in a thread of this process."""

    def __init__(self, db_path: Path | str, **settings: Any) -> None:
        """`settings` change the deployed server's (`hardening.SERVER`) for a test."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(str(db_path)), host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="off",
                                **{**hardening.SERVER, **settings})
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_for(lambda: self.server.started, what="web server started")

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(10)


def staff(s: Store, id: str, role: str, branch_ids: list[str]) -> str:
    """A staff account with the test password; returns its id."""
    branches.add_staff(s, id, id.title(), role, branch_ids)
    signin.set_password(s, id, PASSWORD)
    return id


def two_branches(path: Path | str) -> Store:
    """A new store at `path` (a file or a URL) with branches `center` and `east` in Ljubljana
    and a facilities member of staff at each, `fac` and `eve`."""
    s = Store(open_store(str(path), init=True))
    for branch, who in (("center", "fac"), ("east", "eve")):
        branches.add_branch(s, branch, branch.title(), "Europe/Ljubljana")
        staff(s, who, "facilities", [branch])
    return s


class Chromium:
    """One headless Chromium for a test module (Debian's binary, never a downloaded one)."""

    def __init__(self) -> None:
        self._pw = sync_playwright().start()
        self.browser: Browser = self._pw.chromium.launch(executable_path="/usr/bin/chromium",
                                                         args=["--no-sandbox"])

    def page(self) -> Page:
        """A page in a fresh context (its own cookies)."""
        return self.browser.new_context(locale="en-GB").new_page()

    def close(self) -> None:
        """Close the browser and playwright."""
        self.browser.close()
        self._pw.stop()


def sign_in(page: Page, url: str, who: str, password: str = PASSWORD) -> None:
    """Fill and send the sign-in form."""
    page.goto(f"{url}/login")
    page.fill("#staff", who)
    page.fill("#password", password)
    page.click("button[type=submit]")


@contextmanager
def signed_in_client(server: WebServer, who: str) -> Iterator[httpx.Client]:
    """A plain HTTP client (no browser) signed in as `who` through the sign-in form."""
    with httpx.Client(base_url=server.url) as client:
        token = client.get("/login").cookies["libedge_login"]
        done = client.post("/login", data={"csrf": token, "staff": who, "password": PASSWORD})
        assert done.status_code == 303, done.text
        yield client


def form_token(client: httpx.Client, path: str) -> str:
    """The form token (CSRF) a signed-in page carries."""
    return token_in(client.get(path).text)


def token_in(text: str) -> str:
    """The form token (CSRF) of the first form of a page's text."""
    return text.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def serious_violations(page: Page) -> list[dict]:
    """axe-core's serious and critical findings on the page as it is now."""
    page.evaluate(AXE.read_text())       # as devtools do: the pages' CSP allows no script tag
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [{"id": v["id"], "nodes": [n["html"][:120] for n in v["nodes"][:3]]}
            for v in found if v["impact"] in ("serious", "critical")]


def check_page(page: Page, name: str, tmp_path: Path) -> None:
    """No serious or critical axe-core finding on the page; its screenshot goes to docs/screenshots
    when LIBEDGE_SCREENSHOTS is set (how the README's pictures are made), else to tmp_path."""
    assert serious_violations(page) == [], name
    folder = SCREENSHOTS if os.environ.get("LIBEDGE_SCREENSHOTS") else tmp_path
    page.screenshot(path=str(folder / f"web-{name}.png"), full_page=True)
