"""Synthesised tones: right pitch, no clicks at the edges, chimes that rise and fall."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tempocoach.audio.clip import Clip
from tempocoach.audio.tones import PHASE_TONE_HZ, click, end_chime, phase_tone, start_chime, tick, tone
from tempocoach.errors import AudioError
from tempocoach.events import Phase


def dominant_hz(clip: Clip) -> float:
    spectrum = np.abs(np.fft.rfft(clip.samples.astype(np.float64) * np.hanning(len(clip))))
    freqs = np.fft.rfftfreq(len(clip), 1 / clip.sample_rate_hz)
    return float(freqs[int(np.argmax(spectrum))])


@pytest.mark.parametrize("phase", list(Phase))
def test_each_phase_has_its_own_audible_pitch(phase: Phase) -> None:
    clip = phase_tone(phase, duration_s=0.25)
    assert dominant_hz(clip) == pytest.approx(PHASE_TONE_HZ[phase], abs=8.0)
    assert 0.1 < clip.rms() < 0.5


def test_phase_pitches_are_far_enough_apart_to_tell() -> None:
    pitches = sorted(PHASE_TONE_HZ.values())
    ratios = [b / a for a, b in itertools.pairwise(pitches)]
    assert min(ratios) > 1.12  # more than a whole tone apart


@pytest.mark.parametrize("clip", [tone(440.0, 0.1), tick(), phase_tone(Phase.CONCENTRIC), start_chime()])
def test_tones_fade_in_and_out_without_a_click(clip: Clip) -> None:
    samples = clip.samples.astype(np.int32)
    peak = int(np.abs(samples).max())
    assert abs(samples[0]) < 0.02 * peak and abs(samples[-1]) < 0.05 * peak
    # The first and last 2 ms rise gently instead of jumping to full level.
    edge = round(0.002 * clip.sample_rate_hz)
    assert np.abs(samples[:edge]).max() < 0.6 * peak
    assert np.abs(samples[-edge:]).max() < 0.6 * peak


def test_tick_is_short_and_high() -> None:
    clip = tick()
    assert clip.duration_s == pytest.approx(0.03, abs=0.001)
    assert dominant_hz(clip) > 900


def test_chimes_rise_at_start_and_fall_at_end() -> None:
    for clip, rising in ((start_chime(), True), (end_chime(), False)):
        third = len(clip) // 3
        first, last = (Clip(clip.samples[:third]), Clip(clip.samples[-third:]))
        assert (dominant_hz(last) > dominant_hz(first)) is rising


def test_click_starts_sharply() -> None:
    clip = click()
    onset = np.abs(clip.samples[:12].astype(np.int32)).max()
    assert onset > 0.3 * 32767
    assert clip.duration_s < 0.02


def test_bad_tone_parameters_are_rejected() -> None:
    with pytest.raises(AudioError, match="outside"):
        tone(20000.0, 0.1)
    with pytest.raises(AudioError, match="duration"):
        tone(440.0, 0.0)
