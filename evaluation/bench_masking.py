"""Precision and recall of personal-data masking, per kind, on the labelled resident messages.

Usage: .venv/bin/python evaluation/bench_masking.py [--cases evaluation/cases/pii.jsonl] [--show]

Each case is a resident message and the personal data in it (kind label, exact text). A found span
counts as right when it overlaps a labelled one of the same kind; a span found in an ordinary
question (no labels) is a false positive. ``--show`` prints every miss and false positive.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

from api.kinds import PiiKind
from api.privacy import PiiSpan, find_pii, mask_pii

CASES = Path(__file__).resolve().parent / "cases" / "pii.jsonl"


@dataclass(frozen=True)
class PiiCase:
    text: str
    spans: tuple[PiiSpan, ...]
    known_miss: str = ""  # why the masker is known to miss this one (the test expects the failure)

    @property
    def expected(self) -> str:
        """The message as it must be stored: every labelled span replaced by its label."""
        out, position = [], 0
        for span in self.spans:
            out += [self.text[position : span.start], f"[{span.kind.value}]"]
            position = span.end
        return "".join([*out, self.text[position:]])


def load_cases(path: Path = CASES) -> list[PiiCase]:
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        spans, search_from = [], 0
        for label, value in row["pii"]:
            start = row["text"].find(value, search_from)
            if start < 0:
                raise ValueError(f"{path}:{number}: {value!r} is not in the text")
            spans.append(PiiSpan(PiiKind(label), start, start + len(value)))
            search_from = start + len(value)
        ordered = tuple(sorted(spans, key=lambda s: s.start))
        cases.append(PiiCase(row["text"], ordered, row.get("known_miss", "")))
    return cases


def _overlaps(a: PiiSpan, b: PiiSpan) -> bool:
    return a.kind == b.kind and a.start < b.end and b.start < a.end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cases", type=Path, default=CASES)
    parser.add_argument("--show", action="store_true", help="print every miss and false positive")
    args = parser.parse_args()
    cases = load_cases(args.cases)
    find_pii("저는 홍길동입니다")  # Kiwi loads once; not part of the timing below
    started = time.perf_counter()
    exact = sum(mask_pii(c.text) == c.expected for c in cases)
    elapsed = time.perf_counter() - started
    results = _per_kind(cases, args.show)
    plain = [c for c in cases if not c.spans]
    untouched = sum(mask_pii(c.text) == c.text for c in plain)
    print(f"{len(cases)} messages ({len(plain)} ordinary questions), masked exactly as labelled: {exact}")
    print(f"ordinary questions left untouched: {untouched}/{len(plain)}")
    print(f"{'kind':<9} {'labelled':>8} {'found':>6} {'precision':>9} {'recall':>7}  label")
    total = [0, 0, 0, 0]
    for kind, (labelled, found, right_found, right_labelled) in results.items():
        if not (labelled or found):
            continue
        total = [a + b for a, b in zip(total, (labelled, found, right_found, right_labelled), strict=True)]
        precision, recall = _ratio(right_found, found), _ratio(right_labelled, labelled)
        print(f"{kind.name:<9} {labelled:>8} {found:>6} {precision:>9} {recall:>7}  [{kind.value}]")
    precision, recall = _ratio(total[2], total[1]), _ratio(total[3], total[0])
    print(f"{'all':<9} {total[0]:>8} {total[1]:>6} {precision:>9} {recall:>7}")
    print(f"{elapsed / len(cases) * 1000:.2f} ms per message")
    print(f"\nstated names: {NAME_DRAWS} names drawn from common syllables (seed {NAME_SEED}), masked")
    for template, masked in _generated_names().items():
        print(f"  {masked / NAME_DRAWS:>5.2f}  {template}")


def _per_kind(cases: list[PiiCase], show: bool) -> dict[PiiKind, tuple[int, int, int, int]]:
    """Per kind: (labelled, found, found that are right, labelled that were found)."""
    counts: dict[PiiKind, list[int]] = {k: [0, 0, 0, 0] for k in PiiKind}
    for case in cases:
        predicted = find_pii(case.text)
        for span in case.spans:
            counts[span.kind][0] += 1
            if any(_overlaps(span, p) for p in predicted):
                counts[span.kind][3] += 1
            elif show:
                print(f"MISS  [{span.kind.value}] {case.text[span.start : span.end]!r} in {case.text!r}")
        for span in predicted:
            counts[span.kind][1] += 1
            if any(_overlaps(span, g) for g in case.spans):
                counts[span.kind][2] += 1
            elif show:
                print(f"FALSE [{span.kind.value}] {case.text[span.start : span.end]!r} in {case.text!r}")
    return {k: (v[0], v[1], v[2], v[3]) for k, v in counts.items()}


# Kiwi knows famous names; residents' are mostly unknown to it. Names made of common name syllables
# measure what the masker does with a name it has never seen, in each way residents introduce themselves.
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = "민서준우지현도윤하은예수진영호성아연주원혜경태희재"
NAME_TEMPLATES = (
    "제 이름은 {}입니다 여권 문의요",
    "제 이름은 {}예요",
    "성함은 {}이고요 전입신고요",
    "저는 {}입니다 여권 문의요",
    "저는 {}인데요 등본이요",
    "저 {}인데 여권 문의요",
)
NAME_DRAWS = 200
NAME_SEED = 14


def _generated_names() -> dict[str, int]:
    draw = random.Random(NAME_SEED)
    names = [draw.choice(SURNAMES) + draw.choice(GIVEN) + draw.choice(GIVEN) for _ in range(NAME_DRAWS)]
    return {t: sum(n[1:] not in mask_pii(t.format(n)) for n in names) for t in NAME_TEMPLATES}


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.2f}" if whole else "-"


if __name__ == "__main__":
    main()
