"""The exception root of libedge and the stable error codes that cross process boundaries."""


MAX_MESSAGE = 1000  # a message may quote input from outside; a device takes up to 2000


class EdgeError(Exception):
    """Root of every libedge error; `code` is stable and translated at the UI edge.

    The message is for logs and is cut to MAX_MESSAGE characters, since it may quote what
    came from outside (a decoder's message names an unknown field, however long).
    """

    code = "error"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        message = message or self.code
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE - 1] + "…"
        super().__init__(message)
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
