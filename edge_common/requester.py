"""Requests to central over MQTT 5 request/response: a caller waits on its own thread, the
coordinator's own questions get a callback on the coordinator."""

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from edge_common import envelope, topics
from edge_common.errors import EdgeError, InvalidMessage, OfflineError
from edge_common.link import Incoming, MqttLink, publish_properties
from edge_common.protocol import Answer, Body, Message
from edge_common.requests import Requests

log = logging.getLogger(__name__)
B = TypeVar("B", bound=Body)
A = TypeVar("A", bound=Answer)


class Requester:
    """Publishes requests on `req` with this device's `res` topic as ResponseTopic and matches
    the answers by correlation id; `requests` holds what is in flight."""

    def __init__(self, dev: str, link: MqttLink, timeout: float,
                 decode: Callable[[Incoming], envelope.Envelope | None],
                 call: Callable[[Callable[[], object]], None]) -> None:
        self.dev = dev
        self.requests = Requests()
        self.topic = topics.device(dev, "res")
        self._req = topics.device(dev, "req")
        self._link = link
        self._timeout = timeout
        self._decode = decode
        self._call = call

    def request(self, message: Message[B, A], body: B, timeout: float | None = None,
                id: str | None = None, at: datetime | None = None) -> A:
        """Ask central and wait on this thread for the declared answer; raises OfflineError,
        RequestTimeout, RemoteError (central's code) or InvalidMessage (`answer_invalid`).

        Retrying with the same `id` returns central's stored answer, never a second effect;
        `at` dates it when it happened, if not now.
        """
        message.check(body)
        if not self._link.connected:
            raise OfflineError("no link to central")
        timeout = timeout or self._timeout
        env = envelope.make(message.type, self.dev, body, id=id, at=at)
        fut = self.requests.future(env.id, time.monotonic() + timeout)
        self._publish(env)
        return message.decode_answer(fut.result(timeout + 1))

    def ask(self, message: Message[B, A], body: B, timeout: float,
            callback: Callable[[A | None, EdgeError | None], None]) -> None:
        """Send a request without waiting; `callback(answer, error)` runs on the coordinator."""
        message.check(body)
        env = envelope.make(message.type, self.dev, body)

        def done(result: dict[str, Any] | None, error: EdgeError | None) -> None:
            answer: A | None = None
            if error is None:
                try:
                    answer = message.decode_answer(result)
                except InvalidMessage as exc:
                    error = exc
            self._call(lambda: callback(answer, error))

        self.requests.add(env.id, time.monotonic() + timeout, done)
        self._publish(env)

    def _publish(self, env: envelope.Envelope) -> None:
        """Publish a tracked request; when the link does not take it, fail it at once."""
        props = publish_properties(self.topic, env.id.encode())
        if not self._link.publish(self._req, envelope.encode(env), qos=1, properties=props):
            self.requests.cancel(env.id, OfflineError("no link to central"))

    def response(self, msg: Incoming) -> None:
        """An answer on `res` (on the link's thread): resolve whoever waits for it."""
        env = self._decode(msg)
        if env is None:
            return
        re = env.body.get("re") if isinstance(env.body.get("re"), str) else None
        corr = msg.correlation.decode("ascii", "replace") if msg.correlation else re
        if corr is None or not self.requests.resolve(corr, env.body):
            log.info("%s: response nobody waits for (%s)", self.dev, corr)
