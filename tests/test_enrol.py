"""A device's side of enrolment against a scripted HTTPS central: what it sends, what it writes
from a grant, and the stable code of each way it fails (central's own refusals and answers real
central never gives); the real endpoint is test_provisioning.py's."""

import os
import socket
import stat
import threading
import tomllib

import msgspec
import pytest

from provisioning import enrol as enrolment
from provisioning.ca import fingerprint
from provisioning.enrol import EnrolError, Enrolled, enrol
from provisioning.grant import BrokerGrant, Grant, Refusal, Ticket
from tests.harness import wait_for
from tests.mitm import Scripted

GRANT = Grant(dev="lock-7", site="main", kind="lockd", card_key="a" * 64, command_key="b" * 64,
              broker=BrokerGrant(host="broker.lib", port=8883, username="lock-7",
                                 password="broker secret"),
              ca_pem="unused", config_version=3, config={"gpio": {"pin_factory": "mock"}})


@pytest.fixture
def central(tmp_path):
    """A scripted central serving its own CA; each test sets `central.answers` (popped in
    order), granting GRANT by default."""
    answers: list[tuple[int, bytes]] = []
    server = Scripted(tmp_path / "central", "libedge central CA", lambda own: own,
                      lambda _: answers.pop(0) if answers else (200, msgspec.json.encode(GRANT)))
    server.answers = answers
    yield server
    server.close()


def ticket(server: Scripted, url: str | None = None, pin: str | None = None) -> Ticket:
    """A ticket for `server` (or another address), pinning its CA (or `pin`)."""
    return Ticket(url or server.url, "tok.secret",
                  pin or fingerprint(server.files.ca_cert.read_bytes()))


def refused(t: Ticket, out) -> EnrolError:
    """The error enrolling with `t` into `out` ends in, having written no password or config
    there (at most the pinned CA the request was checked with)."""
    with pytest.raises(EnrolError) as caught:
        enrol(t, out)
    assert {p.name for p in out.glob("*")} <= {"ca.pem"}
    return caught.value


def test_a_grant_is_written_whole_in_0600_files(central, tmp_path, recwarn):
    """The token goes as JSON to `/v1/enrol` (a trailing slash on central's address is
    dropped, and fetching the CA unchecked warns nobody); the device's config holds the
    grant's identity, keys and config, the broker over TLS with the password and the pinned
    CA in files beside it, and data where asked."""
    out = tmp_path / "etc"
    done = enrol(ticket(central, central.url + "/"), out, tmp_path / "state")
    assert done == Enrolled(out / "lockd.toml", "lock-7", "lockd")
    assert central.asked == ["/v1/ca.pem", "/v1/enrol"]
    assert central.tokens == [b'{"token":"tok.secret"}']
    assert central.headers[0]["content-type"].lower() == "application/json"
    assert [str(w.message) for w in recwarn] == []
    assert sorted(p.name for p in out.iterdir()) == ["ca.pem", "lockd.toml", "mqtt-password"]
    for name in out.iterdir():
        assert stat.S_IMODE(os.stat(name).st_mode) == 0o600
    assert (out / "ca.pem").read_bytes() == central.files.ca_cert.read_bytes()
    assert (out / "mqtt-password").read_text() == "broker secret\n"
    assert tomllib.loads(done.config.read_text()) == {
        "gpio": {"pin_factory": "mock"},
        "device": {"id": "lock-7", "site": "main", "kind": "lockd",
                   "data_dir": str(tmp_path / "state"), "card_key": "a" * 64,
                   "command_key": "b" * 64, "config_version": 3},
        "mqtt": {"host": "broker.lib", "port": 8883, "username": "lock-7",
                 "password_file": str(out / "mqtt-password"), "tls": True,
                 "ca_file": str(out / "ca.pem")}}
    again = enrol(ticket(central), tmp_path / "other")
    data_dir = tomllib.loads(again.config.read_text())["device"]["data_dir"]
    assert data_dir == str(tmp_path / "other" / "data")      # by default beside the config


def test_a_ticket_naming_plain_http_is_refused_before_anything_is_sent(central, tmp_path):
    """`http://` (in any case), another scheme or none: `central_invalid`, and central is not
    even asked for its CA, so the token is never sent in the clear; over HTTPS it enrols."""
    host = central.url.removeprefix("https://")
    for url in (f"http://{host}", f"HTTP://{host}", f"ftp://{host}", host):
        plain = refused(ticket(central, url), tmp_path / "plain")
        assert plain.code == "central_invalid" and url in str(plain), url
    assert central.asked == [] and not (tmp_path / "plain").exists()
    assert enrol(ticket(central), tmp_path / "etc").dev == "lock-7"
    assert central.tokens == [b'{"token":"tok.secret"}']


def test_centrals_refusal_reaches_the_device_with_its_code(central, tmp_path):
    """A refusal carries central's code and words; an answer that is no refusal, the code of
    an enrolment that failed with its HTTP status; no password or config is written."""
    central.answers.extend([
        (403, msgspec.json.encode(Refusal("token_used", "this token was used"))),
        (500, b"<html>proxy error</html>"),
        (201, msgspec.json.encode(GRANT))])
    used = refused(ticket(central), tmp_path / "used")
    assert (used.code, str(used)) == ("token_used", "this token was used")
    broken = refused(ticket(central), tmp_path / "broken")
    assert (broken.code, str(broken)) == ("enrol_failed", "HTTP 500")
    assert refused(ticket(central), tmp_path / "created").code == "enrol_failed"


def test_a_grant_that_cannot_be_read_is_answer_invalid(central, tmp_path):
    """Not JSON, a grant short of a field, or of a kind no device is: `answer_invalid`."""
    whole = msgspec.to_builtins(GRANT)
    central.answers.extend([
        (200, b"not json"),
        (200, msgspec.json.encode({k: v for k, v in whole.items() if k != "card_key"})),
        (200, msgspec.json.encode({**whole, "kind": "toaster"}))])
    for n, named in enumerate(("JSON", "card_key", "toaster")):
        bad = refused(ticket(central), tmp_path / f"bad-{n}")
        assert bad.code == "answer_invalid" and named in str(bad), n     # what was wrong


def test_a_central_that_is_not_the_pinned_one_never_gets_the_token(central, tmp_path):
    """Another CA than the pinned one: `ca_mismatch` after the CA request alone; nobody
    listening: `central_unreachable`."""
    other = refused(ticket(central, pin="0" * 64), tmp_path / "mitm")
    assert other.code == "ca_mismatch" and central.url in str(other)
    assert (central.asked, central.tokens) == (["/v1/ca.pem"], [])
    assert not (tmp_path / "mitm").exists()
    url = central.url
    central.close()
    gone = refused(ticket(central, url), tmp_path / "gone")
    assert gone.code == "central_unreachable" and url in str(gone)    # the installer sees where


def test_a_central_that_never_answers_is_given_up_on(tmp_path, monkeypatch):
    """A central that takes the connection and says nothing: `central_unreachable` once the
    wait is over (shortened here), never a device waiting for ever."""
    monkeypatch.setattr(enrolment, "TIMEOUT", 0.2)
    ended: list[EnrolError] = []
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"https://127.0.0.1:{silent.getsockname()[1]}"
        threading.Thread(target=lambda: ended.append(
            refused(Ticket(url, "tok.secret", "0" * 64), tmp_path / "silent")),
            daemon=True).start()
        wait_for(lambda: ended, what="a silent central given up on")
    assert ended[0].code == "central_unreachable"
