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
