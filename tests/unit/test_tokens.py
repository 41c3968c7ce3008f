from api.tokens import ConversationTokens

KEY = "unit-test-secret-key-0123456789"


def test_token_round_trip_keeps_the_session() -> None:
    signer = ConversationTokens(KEY, 3600)
    sid, token = signer.issue()
    assert signer.verify(token) == sid
    assert signer.resume_or_start(token) == (sid, token)


def test_forged_or_foreign_tokens_start_a_fresh_session() -> None:
    signer = ConversationTokens(KEY, 3600)
    sid, token = signer.issue()
    other = ConversationTokens("another-county-secret-key-xyz", 3600)
    _, foreign = other.issue(sid)  # same session id, signed with someone else's key
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in [foreign, tampered, "not-a-token", "", None, "x" * 2000]:
        assert signer.verify(bad) is None
        new_sid, new_token = signer.resume_or_start(bad)
        assert new_sid != sid and new_token != bad


def test_expired_tokens_are_rejected() -> None:
    signer = ConversationTokens(KEY, -1)
    _, token = signer.issue()
    assert signer.verify(token) is None
