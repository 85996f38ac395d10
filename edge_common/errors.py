"""The exception root of libedge and the stable error codes that cross process boundaries."""


class EdgeError(Exception):
    """Root of every libedge error; `code` is stable and translated at the UI edge."""

    code = "error"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or self.code)
        if code is not None:
            self.code = code


class InvalidMessage(EdgeError, ValueError):
    """A payload from outside failed validation."""

    code = "invalid_message"


class ConfigError(EdgeError, ValueError):
    """A configuration file is missing, malformed or holds an unknown or wrong key."""

    code = "config_invalid"


class OfflineError(EdgeError, ConnectionError):
    """The operation needs central and the link is down."""

    code = "offline"


class RequestTimeout(EdgeError, TimeoutError):
    """Central did not answer a request in time."""

    code = "timeout"


class RemoteError(EdgeError):
    """Central answered a request with an error code."""

    code = "remote_error"
