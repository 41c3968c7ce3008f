"""Server-issued, HMAC-signed conversation tokens.

A resident's client only ever holds a token; the conversation id inside it is
chosen by the server. A forged, foreign (other key) or expired token yields a
fresh conversation.
"""

from __future__ import annotations

import uuid

from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "minwon.session.v1"  # unchanged since the first release: tokens already issued stay valid


class ConversationTokens:
    def __init__(self, secret_key: str, max_age: int) -> None:
        if len(secret_key) < 16:
            raise ValueError("session secret key must be at least 16 characters")
        self._serializer = URLSafeTimedSerializer(secret_key, salt=SALT)
        self.max_age = max_age

    def issue(self, conversation_id: str | None = None) -> tuple[str, str]:
        """(conversation id, token)."""
        cid = conversation_id or uuid.uuid4().hex
        return cid, self._serializer.dumps({"sid": cid})

    def verify(self, token: str | None) -> str | None:
        """The conversation id inside a valid token, else None."""
        if not token or len(token) > 512:
            return None
        try:
            data = self._serializer.loads(token, max_age=self.max_age)
        except BadSignature:  # includes SignatureExpired
            return None
        cid = data.get("sid") if isinstance(data, dict) else None
        return cid if isinstance(cid, str) and len(cid) == 32 else None

    def resume_or_start(self, token: str | None) -> tuple[str, str]:
        """(conversation id, token to return): the same conversation when the token is valid."""
        cid = self.verify(token)
        if cid is None:
            return self.issue()
        return cid, token or ""
