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


def test_a_rotated_key_keeps_conversations_and_re_signs_their_tokens() -> None:
    old = ConversationTokens(KEY, 3600)
    sid, token = old.issue()
    rotated = ConversationTokens("the-new-county-secret-key-2026", 3600, previous_keys=[KEY])
    assert rotated.verify(token) == sid
    resumed_sid, fresh = rotated.resume_or_start(token)
    assert resumed_sid == sid and fresh != token
    assert rotated.verify(fresh, current_key_only=True) == sid
    assert rotated.resume_or_start(fresh) == (sid, fresh)
    # Once the previous key is dropped, its tokens start afresh; tokens re-signed meanwhile still work.
    dropped = ConversationTokens("the-new-county-secret-key-2026", 3600)
    assert dropped.verify(token) is None and dropped.verify(fresh) == sid


def test_previous_keys_come_from_the_environment() -> None:
    from api.settings import Settings

    env = {"MINWON_SECRET_KEY": "k" * 32, "MINWON_PREVIOUS_SECRET_KEYS": "a" * 32 + ", " + "b" * 32}
    assert Settings.from_env(env).previous_secret_keys == ["a" * 32, "b" * 32]
