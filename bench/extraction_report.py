"""Field extraction report: precision/recall per field on the hand-written Chilean-Spanish
cases, micro-F1, the cases it gets wrong, and throughput in messages per second.

Run with `.venv/bin/python bench/extraction_report.py`. Pure Python: no database, no Django.
It prints numbers and asserts nothing.
"""

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conversations.extraction import extract_fields  # noqa: E402
from conversations.tests.extraction_cases import (  # noqa: E402
    CASES,
    FIRST_BATCH,
    FOURTH_BATCH,
    PATHOLOGICAL,
    SECOND_BATCH,
    THIRD_BATCH,
)
from conversations.tests.extraction_scoring import score  # noqa: E402

ROUNDS = 7  # timing rounds over the whole set; the median rate is reported


def print_scores() -> None:
    batches = (("all", CASES), ("first batch", FIRST_BATCH), ("second batch", SECOND_BATCH),
               ("third batch", THIRD_BATCH), ("fourth batch", FOURTH_BATCH))
    for label, cases in batches:
        result = score(cases, extract_fields)
        exact = sum(extract_fields(case.text) == case.expected for case in cases)
        print(f"\n== {label}: {len(cases)} messages, {exact} exact, micro-F1 {result.micro.f1:.3f}")
        if label == "all":
            print(result.table())


def print_misses() -> None:
    print("\n== messages not extracted exactly")
    for case in CASES:
        got = extract_fields(case.text)
        if got != case.expected:
            print(f"- {case.text!r}\n    expected {case.expected}\n    got      {got}\n    known gap: {case.known_gap}")


def print_speed() -> None:
    texts = [case.text for case in CASES]
    rates = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for text in texts:
            extract_fields(text)
        rates.append(len(texts) / (time.perf_counter() - started))
    mean_chars = statistics.mean(len(text) for text in texts)
    print(f"\n== speed: {statistics.median(rates):,.0f} messages/s (median of {ROUNDS} rounds, "
          f"{len(texts)} messages of {mean_chars:.0f} characters on average, one core)")


def print_pathological() -> None:
    """Each junk input at full and half length: a ratio near 2 is linear, near 4 quadratic."""
    print("\n== pathological inputs (ms, median of 5; ratio full/half length)")
    for text, _ in PATHOLOGICAL:
        full, half = _median_ms(text), _median_ms(text[: len(text) // 2])
        print(f"- {text[:24]!r:30} {len(text):5} chars {full:7.2f} ms  ratio {full / max(half, 1e-6):4.1f}")


def _median_ms(text: str) -> float:
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        extract_fields(text)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


if __name__ == "__main__":
    print_scores()
    print_misses()
    print_speed()
    print_pathological()
