"""Config files are checked at start: unknown keys and wrong types name the key and the file."""

import pytest

from edge_common.config import MqttConfig, load
from edge_common.errors import ConfigError


def write(tmp_path, text):
    path = tmp_path / "c.toml"
    path.write_text(text)
    return path


def test_valid_file_loads(tmp_path):
    cfg = load(write(tmp_path, 'host = "broker"\nport = 8883\ntls = true\n'), MqttConfig)
    assert (cfg.host, cfg.port, cfg.tls) == ("broker", 8883, True)


@pytest.mark.parametrize("text, expected", [
    ('hots = "x"\n', "unknown key 'hots'"),
    ('port = "x"\n', "at key 'port'"),
    ("port = 70000\n", "at key 'port'"),
    ("port = \n", "not valid TOML"),
])
def test_errors_name_file_and_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load(path, MqttConfig)
    assert expected in str(err.value) and str(path) in str(err.value)
    assert err.value.code == "config_invalid"


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load(tmp_path / "nope.toml", MqttConfig)


def test_password_file(tmp_path):
    (tmp_path / "pw").write_text("s3cret\n")
    assert MqttConfig(password_file=str(tmp_path / "pw")).secret() == "s3cret"
    with pytest.raises(ConfigError):
        MqttConfig(password_file=str(tmp_path / "missing")).secret()


LOCKD, KIOSK = "deploy/lockd.example.toml", "deploy/kiosk.example.toml"


def _schemas():
    from kiosk.config import KioskConfig
    from lockd.config import LockdConfig

    return {LOCKD: LockdConfig, KIOSK: KioskConfig}


@pytest.mark.parametrize("depth", [500, 5000])
@pytest.mark.parametrize("nest", ["array", "table"])
def test_deeply_nested_toml_is_config_invalid_not_a_recursion_error(tmp_path, depth, nest):
    value = "[" * depth + "]" * depth if nest == "array" else "{a = " * depth + "1" + "}" * depth
    for example, schema in _schemas().items():
        path = write(tmp_path, open(example).read().replace("[mqtt]", f"x = {value}\n[mqtt]"))
        with pytest.raises(ConfigError) as err:
            load(path, schema)
        assert err.value.code == "config_invalid" and str(path) in str(err.value)


@pytest.mark.parametrize("daemon, example", [("lockd.daemon", LOCKD), ("kiosk.daemon", KIOSK)])
def test_check_config_says_config_invalid_for_deep_nesting(tmp_path, daemon, example):
    import subprocess
    import sys

    path = write(tmp_path, open(example).read().replace(
        "[mqtt]", "x = " + "[" * 500 + "]" * 500 + "\n[mqtt]"))
    run = subprocess.run([sys.executable, "-m", daemon, "--config", str(path),
                          "--check-config"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert f"config_invalid: {path}: " in run.stderr


PIN_KEYS = ["relay_pin", "contact_pin", "exit_pin", "tamper_pin", "green_led_pin",
            "red_led_pin", "buzzer_pin", "relay_feedback_pin"]


def _door_with(key: str, value: str) -> str:
    """The lockd example with `key = value` in its first door (replacing it if it is there)."""
    text = open(LOCKD).read()
    first = text.index("[[doors]]")
    door, rest = text[first:].split("\n[[doors]]", 1)
    lines = [line for line in door.splitlines() if not line.startswith(f"{key} ")]
    lines.insert(1, f"{key} = {value}")
    return text[:first] + "\n".join(lines) + "\n\n[[doors]]" + rest


@pytest.mark.parametrize("key", PIN_KEYS)
@pytest.mark.parametrize("value", ["-5", "28", "1000000", '"GPIO28"', '"BOARD41"', '"../x"',
                                   '""'])
def test_every_door_pin_is_a_bcm_pin(tmp_path, key, value):
    from lockd.config import LockdConfig

    with pytest.raises(ConfigError, match=key):
        load(write(tmp_path, _door_with(key, value)), LockdConfig)


@pytest.mark.parametrize("value", ["0", "27", '"GPIO17"', '"BCM4"', '"BOARD11"', '"J8:40"',
                                   '"17"'])
def test_pins_in_range_and_gpiozero_names_are_taken(tmp_path, value):
    from lockd.config import LockdConfig

    for key in PIN_KEYS:
        load(write(tmp_path, _door_with(key, value)), LockdConfig)


RANGES = [
    # (example, (old, new), the key the error names)
    (LOCKD, ("emergency_pin = 21", "emergency_pin = -1"), "gpio.emergency_pin"),
    (LOCKD, ("port = 8883", "port = 0"), "mqtt.port"),
    (LOCKD, ("port = 8883", "port = 65536"), "mqtt.port"),
    (LOCKD, ("tls = true", "tls = true\nsession_expiry = 4294967296"), "mqtt.session_expiry"),
    (LOCKD, ("tls = true", "tls = true\nreconnect_max = inf"), "mqtt.reconnect_max"),
    (LOCKD, ("tls = true", "tls = true\nreconnect_min = 0.0"), "mqtt.reconnect_min"),
    (LOCKD, ('kind = "lockd"', 'kind = "lockd"\nrequest_timeout = inf'),
     "device.request_timeout"),
    (LOCKD, ('kind = "lockd"', 'kind = "lockd"\nstatus_interval = -1.0'),
     "device.status_interval"),
    (LOCKD, ("[mqtt]", "[outbox]\nack_timeout = inf\n[mqtt]"), "outbox.ack_timeout"),
    (LOCKD, ("[mqtt]", "[outbox]\nmax_backoff = nan\n[mqtt]"), "outbox.max_backoff"),
    (LOCKD, ("[mqtt]", "[outbox]\nmax_rows = 9223372036854775808\n[mqtt]"), "outbox.max_rows"),
    (LOCKD, ("[mqtt]", "[outbox]\nmax_bytes = -1\n[mqtt]"), "outbox.max_bytes"),
    (LOCKD, ("[mqtt]", "[outbox]\nreplay_rate = inf\n[mqtt]"), "outbox.replay_rate"),
    (LOCKD, ("held_open_seconds = 120", "held_open_seconds = inf"),
     "doors[0].held_open_seconds"),
    (LOCKD, ('reader = "ACS"', 'reader = "ACS", poll_interval = 0.0'), "doors[0].reader"),
    (LOCKD, ('kind_of_data = "uid"', 'kind_of_data = "uid", baudrate = 0'),
     "doors[1].exit_reader.baudrate"),
    (LOCKD, ('kind_of_data = "uid"', 'kind_of_data = "uid", max_line = -1'),
     "doors[1].exit_reader.max_line"),
    (KIOSK, ("baudrate = 19200", "baudrate = -19200"), "printer.baudrate"),
    (KIOSK, ("baudrate = 19200", "baudrate = 19200\nport = 0"), "printer.port"),
    (KIOSK, ("baudrate = 19200", "baudrate = 19200\nvendor_id = 65536"), "printer.vendor_id"),
    (KIOSK, ("baudrate = 19200", "baudrate = 19200\nproduct_id = -1"), "printer.product_id"),
    (KIOSK, ("baudrate = 19200", "baudrate = 19200\nwidth = 0"), "printer.width"),
    (KIOSK, ("baudrate = 9600", "baudrate = 0"), "scanner.baudrate"),
    (KIOSK, ("kind = \"buzzer\"\npin = 18", "kind = \"buzzer\"\npin = -5"), "sound.pin"),
    (KIOSK, ("offline_max_items = 5", "offline_max_items = 5\nwidth = 1000000"), "kiosk.width"),
    (KIOSK, ('reader = "ACR"', 'reader = "ACR"\npoll_interval = inf'), "card_reader"),
]


@pytest.mark.parametrize("example, change, key", RANGES)
def test_numbers_out_of_range_are_refused_naming_the_key(tmp_path, example, change, key):
    text = open(example).read()
    assert change[0] in text
    path = write(tmp_path, text.replace(*change, 1))
    with pytest.raises(ConfigError) as err:
        load(path, _schemas()[example])
    assert key in str(err.value) and str(path) in str(err.value)
