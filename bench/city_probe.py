"""The reference beside a simulated fleet's requests: raw MQTT 5 round trips in the same loop."""

import asyncio
import random
import time

import aiomqtt

from bench.sim_device import NODELAY
from edge_common.link import publish_properties
from provisioning.broker import Account, Broker

ASKER, ECHO = "city-asker", "city-echo"
REQ, RES = "lib/v1/bench/req", "lib/v1/bench/res"


def accounts(broker: Broker) -> None:
    """The probe's two service accounts (made effective by the caller's `reload`)."""
    for name in (ASKER, ECHO):
        broker.add(Account(name, f"{name}-pw", service=True))


def _client(port: int, name: str) -> aiomqtt.Client:
    return aiomqtt.Client("127.0.0.1", port, username=name, password=f"{name}-pw",
                          identifier=name, protocol=aiomqtt.ProtocolVersion.V5,
                          socket_options=[NODELAY], timeout=30)


async def probe(port: int, rate: float, payload: bytes, times: list[float],
                timeout: float = 5.0) -> None:
    """Until cancelled, `rate` times a second: a request answered by a plain echo client (what
    central does, minus central), on the fleet's broker; each round trip goes in `times`."""
    async with _client(port, ECHO) as echo, _client(port, ASKER) as asker:
        await echo.subscribe(REQ, qos=1)
        await asker.subscribe(RES, qos=1)
        waiting: dict[bytes, asyncio.Future[None]] = {}

        async def answer() -> None:
            async for msg in echo.messages:
                props = msg.properties
                await echo.publish(RES, msg.payload, qos=1, properties=publish_properties(
                    correlation=getattr(props, "CorrelationData", None)))

        async def receive() -> None:
            async for msg in asker.messages:
                got = waiting.pop(getattr(msg.properties, "CorrelationData", b""), None)
                if got is not None and not got.done():
                    got.set_result(None)

        tasks = [asyncio.create_task(answer()), asyncio.create_task(receive())]
        try:
            for n in range(1 << 62):
                await asyncio.sleep(random.expovariate(rate))
                correlation = str(n).encode()
                done = waiting[correlation] = asyncio.get_running_loop().create_future()
                started = time.monotonic()
                await asker.publish(REQ, payload, qos=1,
                                    properties=publish_properties(RES, correlation))
                try:
                    await asyncio.wait_for(done, timeout)
                except TimeoutError:
                    waiting.pop(correlation, None)
                    continue
                times.append(time.monotonic() - started)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
