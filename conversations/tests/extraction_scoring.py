"""Precision/recall of `extract_fields` on the hand-written cases, per field and micro-averaged.

A field counts as a true positive when extracted with exactly the expected value; a wrong value
is both a false positive and a false negative; an invented field is a false positive.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

FIELDS = ("name", "phone", "email", "location", "budget", "monthly_income", "dicom_status", "property_type",
          "bedrooms")


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Score:
    per_field: dict[str, Tally] = field(default_factory=lambda: {name: Tally() for name in FIELDS})

    @property
    def micro(self) -> Tally:
        return Tally(*(sum(getattr(t, part) for t in self.per_field.values()) for part in ("tp", "fp", "fn")))

    def table(self) -> str:
        lines = [f"{'field':<15} {'support':>7} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>9} {'recall':>7} {'F1':>6}"]
        for name, t in [*self.per_field.items(), ("micro", self.micro)]:
            lines.append(f"{name:<15} {t.tp + t.fn:>7} {t.tp:>4} {t.fp:>4} {t.fn:>4} {t.precision:>9.3f} "
                         f"{t.recall:>7.3f} {t.f1:>6.3f}")
        return "\n".join(lines)


def score(cases: Iterable, extract: Callable[[str], dict]) -> Score:
    result = Score()
    for case in cases:
        got = extract(case.text)
        for name in FIELDS:
            tally = result.per_field[name]
            expected, actual = case.expected.get(name), got.get(name)
            if expected is not None and actual == expected:
                tally.tp += 1
                continue
            tally.fp += actual is not None
            tally.fn += expected is not None
    return result
