"""Found reps against labelled ones: the one matching rule the benchmarks and tests score by.

A found rep matches a true rep when their spans overlap by at least half of the shorter of the two;
each rep matches at most once, true reps taking their best match in order.
"""

from __future__ import annotations

from tempocoach.events import Rep

MIN_OVERLAP = 0.5  # share of the shorter rep


def overlap(a: Rep, b: Rep) -> float:
    """How much of the shorter rep the other covers (0..1)."""
    inter = min(a.end_s, b.end_s) - max(a.start_s, b.start_s)
    shorter = min(a.end_s - a.start_s, b.end_s - b.start_s)
    return max(0.0, inter / shorter) if shorter > 0 else 0.0


def match_reps(found: list[Rep], truth: list[Rep]) -> list[tuple[Rep, Rep]]:
    """(found, true) pairs, one to one."""
    pairs: list[tuple[Rep, Rep]] = []
    used: set[int] = set()
    for t in truth:
        best, best_score = None, MIN_OVERLAP
        for i, f in enumerate(found):
            score = overlap(f, t)
            if i not in used and score >= best_score:
                best, best_score = i, score
        if best is not None:
            used.add(best)
            pairs.append((found[best], t))
    return pairs
