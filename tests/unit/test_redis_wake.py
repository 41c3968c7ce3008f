"""Wake-ups across api processes through a real Redis: an officer's message written on one process
wakes the resident's long poll held by another, installs sharing a Redis do not wake each other, and
after Redis restarts the bridges reconnect on their own and wake their waiters to read again."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.handoff.hub import Hub, conversation_topic
from api.handoff.redis_bridge import RedisBridge
from api.runner import free_ports

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
TOPIC = conversation_topic("c-1")
DB = "postgresql://postgres@127.0.0.1:5432/minwon"


def start_redis(port: int, folder: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout.strip() != b"PONG":
        if time.monotonic() > deadline:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.05)
    return process


@pytest.fixture
def redis_port(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    (port,) = free_ports(1)
    process = start_redis(port, tmp_path)
    yield port, tmp_path
    process.kill()
    process.wait()


async def connected(*bridges: RedisBridge) -> None:
    for bridge in bridges:
        bridge.start()
    await asyncio.wait_for(asyncio.gather(*(b.connected.wait() for b in bridges)), 10)


def test_a_publish_on_one_process_wakes_a_poll_on_another_of_the_same_install(redis_port: tuple[int, Path]) -> None:
    url = f"redis://127.0.0.1:{redis_port[0]}/0"

    async def run() -> tuple[bool, bool, bool]:
        one, two, elsewhere = Hub(), Hub(), Hub()
        bridges = [RedisBridge(url, one, DB), RedisBridge(url, two, DB), RedisBridge(url, elsewhere, DB + "_other")]
        await connected(*bridges)
        waiting, unrelated = two.subscribe(TOPIC), elsewhere.subscribe(TOPIC)
        one.publish(TOPIC)
        woken = await waiting.wait(5)
        same_version = two.version(TOPIC) == one.version(TOPIC)
        other_woken = await unrelated.wait(0.5)
        for bridge in bridges:
            await bridge.stop()
        return woken, same_version, other_woken

    woken, same_version, other_woken = asyncio.run(run())
    assert woken and same_version
    assert not other_woken


def test_bridges_reconnect_after_redis_restarts_and_wake_their_waiters(redis_port: tuple[int, Path]) -> None:
    port, folder = redis_port
    url = f"redis://127.0.0.1:{port}/0"

    async def run() -> tuple[bool, bool]:
        one, two = Hub(), Hub()
        bridges = [RedisBridge(url, one, DB), RedisBridge(url, two, DB)]
        await connected(*bridges)
        subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True)
        await asyncio.sleep(0.5)
        waiting = two.subscribe(TOPIC)  # a poll that starts while Redis is down
        one.publish(TOPIC)  # lost: Redis is down (the message itself is in the database)
        restarted = await asyncio.to_thread(start_redis, port, folder)
        try:
            # Reconnected, the bridge wakes its waiters to read the database again: the lost wake-up
            # costs a moment, not a whole long-poll period.
            woken_after_restart = await waiting.wait(15)
            await asyncio.wait_for(asyncio.gather(*(b.connected.wait() for b in bridges)), 15)
            again = two.subscribe(TOPIC)
            one.publish(TOPIC)
            live_again = await again.wait(5)
        finally:
            for bridge in bridges:
                await bridge.stop()
            restarted.kill()
            restarted.wait()
        return woken_after_restart, live_again

    woken_after_restart, live_again = asyncio.run(run())
    assert woken_after_restart and live_again
