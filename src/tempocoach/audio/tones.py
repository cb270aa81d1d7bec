"""Short synthesised tones: a pitch per phase, a seconds tick, start/end chimes, a calibration click.

Every tone has raised-cosine fades at both ends so it starts and stops without a click, except
click() whose sharp onset is the point (it is what a listener times against).
"""

from __future__ import annotations

import numpy as np

from tempocoach.audio.clip import SAMPLE_RATE_HZ, Clip
from tempocoach.errors import AudioError
from tempocoach.events import Phase

# Distinct pitches a lifter can tell apart without looking: lowering phases low, lifting phases high,
# pauses between. Frequencies are musical notes so consecutive phases sound like an interval, not noise.
PHASE_TONE_HZ: dict[Phase, float] = {
    Phase.ECCENTRIC: 392.0,  # G4, going down
    Phase.BOTTOM_PAUSE: 329.6,  # E4, holding low
    Phase.CONCENTRIC: 587.3,  # D5, driving up
    Phase.TOP_PAUSE: 493.9,  # B4, holding high
}
TICK_HZ = 1000.0
DEFAULT_AMPLITUDE = 0.5  # of full scale; speech from espeak-ng peaks at about this level
DEFAULT_FADE_S = 0.008


def tone(
    freq_hz: float,
    duration_s: float,
    *,
    amplitude: float = DEFAULT_AMPLITUDE,
    fade_s: float = DEFAULT_FADE_S,
    sample_rate_hz: int = SAMPLE_RATE_HZ,
    label: str = "",
) -> Clip:
    """A sine tone with a raised-cosine fade in and out."""
    if not 0 < freq_hz < sample_rate_hz / 2:
        raise AudioError(
            f"tone: {freq_hz} Hz is outside 0..{sample_rate_hz / 2:.0f} Hz; pick an audible pitch"
        )
    if duration_s <= 0 or not 0 <= amplitude <= 1:
        raise AudioError(f"tone: need duration > 0 and amplitude in 0..1, got {duration_s} s, {amplitude}")
    n = max(1, round(duration_s * sample_rate_hz))
    t_s = np.arange(n) / sample_rate_hz
    wave = amplitude * np.sin(2 * np.pi * freq_hz * t_s)
    wave *= _fade_envelope(n, round(fade_s * sample_rate_hz))
    return Clip(np.round(wave * 32767).astype(np.int16), sample_rate_hz, label or f"tone {freq_hz:g} Hz")


def _fade_envelope(n: int, fade_n: int) -> np.ndarray:
    envelope = np.ones(n)
    fade_n = min(fade_n, n // 2)
    if fade_n > 0:
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade_n) / fade_n)
        envelope[:fade_n] = ramp
        envelope[n - fade_n :] = ramp[::-1]
    return envelope


def phase_tone(phase: Phase, duration_s: float = 0.12) -> Clip:
    return tone(PHASE_TONE_HZ[Phase(phase)], duration_s, label=f"{Phase(phase).value} tone")


def tick(duration_s: float = 0.03) -> Clip:
    """The once-a-second tick: short and high so it sits under speech without masking it."""
    return tone(TICK_HZ, duration_s, amplitude=0.3, fade_s=0.004, label="tick")


def _chime(freqs_hz: tuple[float, ...], label: str) -> Clip:
    notes = [tone(f, 0.11, amplitude=0.4, fade_s=0.012) for f in freqs_hz]
    chime = notes[0]
    for note in notes[1:]:
        chime = chime.then(note, gap_s=0.02)
    return Clip(chime.samples, chime.sample_rate_hz, label)


def start_chime() -> Clip:
    """Rising C-E-G: the set begins."""
    return _chime((523.3, 659.3, 784.0), "start chime")


def end_chime() -> Clip:
    """Falling G-E-C: the set is over."""
    return _chime((784.0, 659.3, 523.3), "end chime")


def click(duration_s: float = 0.012) -> Clip:
    """A sharp click for latency calibration: instant onset, fast decay."""
    n = round(duration_s * SAMPLE_RATE_HZ)
    t_s = np.arange(n) / SAMPLE_RATE_HZ
    wave = 0.8 * np.sin(2 * np.pi * 2000.0 * t_s) * np.exp(-t_s / (duration_s / 4))
    return Clip(np.round(wave * 32767).astype(np.int16), SAMPLE_RATE_HZ, "click")
