"""Output-latency calibration: the user taps Enter in time with steady clicks; the taps' median
offset from the clicks is the delay between handing audio to the device and hearing it.

Tapping along with a steady beat (rather than reacting to each click) lets the listener anticipate,
which takes reaction time out of the measurement.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from tempocoach.errors import AudioError

MIN_TAPS = 4
MAX_LATENCY_S = 1.0
# Bluetooth earbuds typically add 150-280 ms; wired output and speakers 10-50 ms.
TYPICAL_BLUETOOTH_S = (0.15, 0.28)


@dataclass(frozen=True)
class LatencyEstimate:
    latency_s: float  # median tap-minus-click offset, clamped to 0..MAX_LATENCY_S
    taps_used: int
    spread_s: float  # interquartile range of the offsets: how steady the tapping was


def latency_from_taps(click_times_s: Sequence[float], tap_times_s: Sequence[float]) -> LatencyEstimate:
    """Match each tap to its nearest click (within half the click spacing) and take the median offset."""
    if len(click_times_s) < 2:
        raise AudioError("calibration needs at least two clicks")
    spacing_s = statistics.median(b - a for a, b in itertools.pairwise(click_times_s))
    offsets = []
    for tap in tap_times_s:
        nearest = min(click_times_s, key=lambda c: abs(tap - c))
        if abs(tap - nearest) < spacing_s / 2:
            offsets.append(tap - nearest)
    if len(offsets) < MIN_TAPS:
        raise AudioError(
            f"only {len(offsets)} taps matched a click (need {MIN_TAPS}); run again and press Enter "
            "on every click, or enter the latency with --set MS"
        )
    quartiles = statistics.quantiles(offsets, n=4) if len(offsets) >= 2 else [0.0, 0.0, 0.0]
    latency_s = min(max(statistics.median(offsets), 0.0), MAX_LATENCY_S)
    return LatencyEstimate(latency_s=latency_s, taps_used=len(offsets), spread_s=quartiles[2] - quartiles[0])


def latency_from_ms(value_ms: float) -> float:
    """Validate a latency typed by the user, in milliseconds; returns seconds."""
    if not 0 <= value_ms <= MAX_LATENCY_S * 1000:
        raise AudioError(
            f"--set {value_ms:g} ms is outside 0..{MAX_LATENCY_S * 1000:.0f} ms; "
            "Bluetooth earbuds are typically 150-280 ms, wired output 10-50 ms"
        )
    return value_ms / 1000.0
