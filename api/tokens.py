"""Server-issued, HMAC-signed conversation tokens.

A resident's client only ever holds a token; the conversation id inside it is
chosen by the server. A forged, foreign (other key) or expired token yields a
fresh conversation.

Keys rotate without ending anyone's conversation: tokens are signed with the
current key, and a token signed with a previous key (``MINWON_PREVIOUS_SECRET_KEYS``)
is still accepted and answered with a fresh token under the current key, so the
previous key can be dropped once ``session_max_age`` has passed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "minwon.session.v1"  # unchanged since the first release: tokens already issued stay valid


class ConversationTokens:
    def __init__(self, secret_key: str, max_age: int, previous_keys: Sequence[str] = ()) -> None:
        if any(len(key) < 16 for key in (secret_key, *previous_keys)):
            raise ValueError("session secret keys must be at least 16 characters")
        self._serializer = URLSafeTimedSerializer(secret_key, salt=SALT)
        # itsdangerous tries every key, newest (last) first.
        self._any_key = URLSafeTimedSerializer([*previous_keys, secret_key], salt=SALT)
        self.max_age = max_age

    def issue(self, conversation_id: str | None = None) -> tuple[str, str]:
        """(conversation id, token)."""
        cid = conversation_id or uuid.uuid4().hex
        return cid, self._serializer.dumps({"sid": cid})

    def verify(self, token: str | None, current_key_only: bool = False) -> str | None:
        """The conversation id inside a valid token (current or previous key), else None."""
        if not token or len(token) > 512:
            return None
        try:
            serializer = self._serializer if current_key_only else self._any_key
            data = serializer.loads(token, max_age=self.max_age)
        except BadSignature:  # includes SignatureExpired
            return None
        cid = data.get("sid") if isinstance(data, dict) else None
        return cid if isinstance(cid, str) and len(cid) == 32 else None

    def resume_or_start(self, token: str | None) -> tuple[str, str]:
        """(conversation id, token to return): the same conversation when the token is valid; a token
        under a previous key is replaced by one under the current key."""
        cid = self.verify(token)
        if cid is None:
            return self.issue()
        if self.verify(token, current_key_only=True) is None:
            return self.issue(cid)
        return cid, token or ""
