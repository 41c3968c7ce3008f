"""Server-issued, HMAC-signed session tokens.

The client only ever holds a token; the session id inside it is chosen by the
server. A forged, foreign (other key) or expired token yields a fresh session.
"""

from __future__ import annotations

import uuid

from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "minwon.session.v1"


class SessionSigner:
    def __init__(self, secret_key: str, max_age: int) -> None:
        if len(secret_key) < 16:
            raise ValueError("session secret key must be at least 16 characters")
        self._serializer = URLSafeTimedSerializer(secret_key, salt=SALT)
        self.max_age = max_age

    def issue(self, session_id: str | None = None) -> tuple[str, str]:
        sid = session_id or uuid.uuid4().hex
        return sid, self._serializer.dumps({"sid": sid})

    def verify(self, token: str | None) -> str | None:
        if not token or len(token) > 512:
            return None
        try:
            data = self._serializer.loads(token, max_age=self.max_age)
        except BadSignature:  # includes SignatureExpired
            return None
        sid = data.get("sid") if isinstance(data, dict) else None
        return sid if isinstance(sid, str) and len(sid) == 32 else None

    def resume_or_start(self, token: str | None) -> tuple[str, str]:
        """(session id, token to return): the same session when the token is valid."""
        sid = self.verify(token)
        if sid is None:
            return self.issue()
        return sid, token or ""
