"""Mask residents' personal data before text is logged, stored or sent to Rasa.

Masking is deliberately greedy: a 13-digit number that looks like a resident
registration number is masked even if it is an order number, because a
false positive costs a re-typed question and a false negative leaks identity.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# YYMMDD + gender/century digit 1-8 + 6 digits; separators: -, space, none.
RRN = re.compile(r"(?<!\d)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\s?[-–]?\s?[1-8]\d{6}(?!\d)")
CARD = re.compile(r"(?<!\d)\d{4}[- ]?\d{4}[- ]?\d{4}[- ]?\d{3,4}(?!\d)")
MOBILE = re.compile(r"(?<!\d)(?:\+82[- ]?|0)1[016789][- .]?\d{3,4}[- .]?\d{4}(?!\d)")
LANDLINE = re.compile(r"(?<!\d)0(?:2|[3-6][1-5]|70|50\d)[- .)]?\d{3,4}[- .]?\d{4}(?!\d)")
# Bank accounts: 10-14 digits, plain or in 2-6 digit hyphenated groups.
ACCOUNT = re.compile(r"(?<![\d-])(?:\d{2,6}-){1,4}\d{2,8}(?![\d-])|(?<!\d)\d{10,14}(?!\d)")

MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (EMAIL, "[이메일]"),
    (RRN, "[주민등록번호]"),
    (CARD, "[카드번호]"),
    (MOBILE, "[전화번호]"),
    (LANDLINE, "[전화번호]"),
)


def _mask_account(match: re.Match[str]) -> str:
    digits = sum(ch.isdigit() for ch in match.group(0))
    return "[계좌번호]" if 10 <= digits <= 14 else match.group(0)


def mask_pii(text: str) -> str:
    for pattern, label in MASKS:
        text = pattern.sub(label, text)
    return ACCOUNT.sub(_mask_account, text)
