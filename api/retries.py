"""One answer per resident message, however often the widget retries it and whichever api process it reaches.

A widget that lost a response sends the same message again with the same client
id. In one process the answer is remembered (and a retry of a first try still
running waits for it); across processes the database is the truth: the stored
message's client id and the answer recorded for it. Rasa sees the message once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from api.handoff.desk import HandoffDesk
from api.handoff.store import AlreadyStored, EarlierMessage
from api.turn_result import TurnResult

log = logging.getLogger("minwon.chat")

# One try of the turn, given the client id as stored and the earlier stored message when a dead first
# try left one behind.
TurnTry = Callable[[str, EarlierMessage | None], Awaitable[TurnResult]]


class OncePerMessage:
    CACHE = 5000  # answers remembered in this process (the fast path)

    def __init__(self, desk: HandoffDesk, replay_wait: float) -> None:
        self.desk = desk
        # How long a retry waits for the answer of a first try another process is running (or that died).
        self.replay_wait = replay_wait
        self._replies: OrderedDict[tuple[str, str], TurnResult] = OrderedDict()
        self._inflight: dict[tuple[str, str], asyncio.Future[TurnResult]] = {}

    async def answer(self, conversation_id: str, client_id: str, turn: TurnTry) -> TurnResult:
        key = (conversation_id, client_id[:64])
        if key in self._replies:
            return self._replies[key]
        if key in self._inflight:  # the same message retried while the first try still runs
            return await asyncio.shield(self._inflight[key])
        future: asyncio.Future[TurnResult] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await self._first_or_again(conversation_id, key[1], turn)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so an unawaited future does not warn
            raise
        finally:
            self._inflight.pop(key, None)
        future.set_result(result)
        if result.busy:  # nothing was stored: the same message sent again is a new try
            return result
        self._replies[key] = result
        while len(self._replies) > self.CACHE:
            self._replies.popitem(last=False)
        return result

    async def _first_or_again(self, conversation_id: str, client_id: str, turn: TurnTry) -> TurnResult:
        """A message another api process may have stored already: the answer stored for it, else a turn."""
        earlier = await self.desk.earlier_message(conversation_id, client_id)
        if earlier is None:
            try:
                result = await turn(client_id, None)
            except AlreadyStored as first:  # another process stored the same message a moment ago
                earlier = first.earlier
            else:
                await self._keep(conversation_id, client_id, result)
                return result
        replay = earlier.replay or await self.desk.wait_for_replay(conversation_id, client_id, self.replay_wait)
        if replay is not None:
            return TurnResult.replayed(replay)
        # The first try died mid-turn (or is stuck): answer it here, without storing the words a second time.
        log.warning("retry of an unanswered message conversation=%s: answering it again", conversation_id[:8])
        result = await turn(client_id, earlier)
        await self._keep(conversation_id, client_id, result)
        return result

    async def _keep(self, conversation_id: str, client_id: str, result: TurnResult) -> None:
        if result.busy or result.replay_stored:  # busy: nothing was stored, the same message sent again is a new try
            return
        await self.desk.record_replay(conversation_id, client_id, result.as_replay())
