"""Several Rasa replicas behind one api: each conversation always goes to the same replica (its tracker
lives there), every api process picks the same one, and a replica that cannot be reached is skipped."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from api.kinds import RasaFailure
from api.rasa_client import RasaClient, RasaUnavailable
from tests.unit.test_api_faults import closed_port


def replica(name: str, delay: threading.Event | None = None) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            if delay is not None:
                delay.wait(10)
            body = json.dumps([{"recipient_id": "x", "text": name}]).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def replicas() -> Iterator[list[ThreadingHTTPServer]]:
    servers = [replica("a"), replica("b"), replica("c")]
    yield servers
    for server in servers:
        server.shutdown()
        server.server_close()


async def answered_by(client: RasaClient, conversation: str) -> str:
    return str((await client.send(conversation, "여권"))[0]["text"])


def test_conversations_stick_to_one_replica_the_same_on_every_api_process(
    replicas: list[ThreadingHTTPServer],
) -> None:
    async def run() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
        urls = [url(s) for s in replicas]
        first, second = RasaClient(urls, "", 5.0), RasaClient(urls, "", 5.0)
        conversations = [f"conversation-{i}" for i in range(60)]
        once = {c: await answered_by(first, c) for c in conversations}
        again = {c: await answered_by(first, c) for c in conversations}
        elsewhere = {c: await answered_by(second, c) for c in conversations}
        await first.aclose()
        await second.aclose()
        return once, again, elsewhere

    once, again, elsewhere = asyncio.run(run())
    assert once == again == elsewhere
    assert set(once.values()) == {"a", "b", "c"}  # spread over all of them


def test_an_unreachable_replica_fails_over_to_the_next_one(
    replicas: list[ThreadingHTTPServer],
) -> None:
    down = closed_port()

    async def run() -> set[str]:
        client = RasaClient([url(replicas[0]), f"http://127.0.0.1:{down}", url(replicas[2])], "", 5.0)
        answers = {await answered_by(client, f"conversation-{i}") for i in range(40)}
        await client.aclose()
        return answers

    answers = asyncio.run(run())
    assert answers == {"a", "c"}  # nobody was left without an answer


def test_a_slow_replica_is_not_failed_over_it_may_still_be_answering() -> None:
    gate = threading.Event()
    slow, fast = replica("slow", delay=gate), replica("fast")

    async def run() -> RasaFailure:
        client = RasaClient([url(slow), url(fast)], "", 0.3)
        conversation = next(f"c{i}" for i in range(100) if _home(client, f"c{i}") == 0)
        try:
            await client.send(conversation, "여권")
        except RasaUnavailable as exc:
            return exc.kind
        finally:
            await client.aclose()
        raise AssertionError("the slow replica answered in time")

    try:
        assert asyncio.run(run()) is RasaFailure.TIMEOUT
    finally:
        gate.set()
        for server in (slow, fast):
            server.shutdown()
            server.server_close()


def _home(client: RasaClient, conversation: str) -> int:
    from api.rasa_client import replica_order

    return replica_order(conversation, client.replicas)[0]
