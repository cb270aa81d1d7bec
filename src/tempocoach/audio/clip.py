"""Clip: a short piece of mono 16-bit audio in memory, and reading/writing it as WAV."""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tempocoach.errors import AudioError

Int16Array = npt.NDArray[np.int16]

# espeak-ng renders at 22 050 Hz; tones and the player use the same rate so nothing is resampled.
SAMPLE_RATE_HZ = 22050


@dataclass(frozen=True, eq=False)  # compared by identity: == on arrays is elementwise
class Clip:
    """Mono int16 samples at sample_rate_hz. label names it in logs (a phrase, "tick", ...)."""

    samples: Int16Array
    sample_rate_hz: int = SAMPLE_RATE_HZ
    label: str = ""

    def __post_init__(self) -> None:
        if self.samples.ndim != 1 or self.samples.dtype != np.int16:
            raise AudioError(
                f"clip {self.label!r}: samples must be 1-D int16, "
                f"got {self.samples.dtype} {self.samples.shape}"
            )

    @property
    def duration_s(self) -> float:
        return int(self.samples.shape[0]) / self.sample_rate_hz

    def __len__(self) -> int:
        return int(self.samples.shape[0])

    def scaled(self, volume: float) -> Clip:
        """The clip at volume (0..1) of its level."""
        if volume == 1.0:
            return self
        scaled = np.round(self.samples.astype(np.float64) * volume)
        return Clip(np.clip(scaled, -32768, 32767).astype(np.int16), self.sample_rate_hz, self.label)

    def resampled(self, sample_rate_hz: int) -> Clip:
        """The clip at another rate (linear interpolation; cue audio needs no more)."""
        if sample_rate_hz == self.sample_rate_hz:
            return self
        if len(self) == 0:
            return Clip(self.samples, sample_rate_hz, self.label)
        n_out = max(1, round(len(self) * sample_rate_hz / self.sample_rate_hz))
        t_out = np.arange(n_out) / sample_rate_hz
        t_in = np.arange(len(self)) / self.sample_rate_hz
        out = np.interp(t_out, t_in, self.samples.astype(np.float64))
        return Clip(np.round(out).astype(np.int16), sample_rate_hz, self.label)

    def then(self, other: Clip, gap_s: float = 0.0) -> Clip:
        """This clip, gap_s of silence, then other (resampled to this clip's rate)."""
        other = other.resampled(self.sample_rate_hz)
        gap = np.zeros(round(gap_s * self.sample_rate_hz), dtype=np.int16)
        joined = np.concatenate([self.samples, gap, other.samples])
        return Clip(joined, self.sample_rate_hz, f"{self.label}+{other.label}")

    def trimmed(
        self, threshold: float = 0.01, keep_before_s: float = 0.01, keep_after_s: float = 0.04
    ) -> Clip:
        """Without the silence around the sound (|x| below threshold of full scale), keeping a little
        either side; the kept tail is faded out so the cut makes no click."""
        loud = np.nonzero(np.abs(self.samples.astype(np.int32)) > threshold * 32768)[0]
        if loud.size == 0:
            return self
        start = max(0, int(loud[0]) - round(keep_before_s * self.sample_rate_hz))
        end = min(len(self), int(loud[-1]) + 1 + round(keep_after_s * self.sample_rate_hz))
        samples = self.samples[start:end].astype(np.float64)
        fade_n = min(len(samples), round(keep_after_s * self.sample_rate_hz))
        samples[len(samples) - fade_n :] *= np.linspace(1.0, 0.0, fade_n)
        return Clip(np.round(samples).astype(np.int16), self.sample_rate_hz, self.label)

    def rms(self) -> float:
        """Root mean square level on a 0..1 full-scale basis."""
        if len(self) == 0:
            return 0.0
        return float(np.sqrt(np.mean((self.samples.astype(np.float64) / 32768.0) ** 2)))


def silence(duration_s: float, sample_rate_hz: int = SAMPLE_RATE_HZ) -> Clip:
    return Clip(np.zeros(round(duration_s * sample_rate_hz), dtype=np.int16), sample_rate_hz, "silence")


def read_wav(path: Path, label: str = "") -> Clip:
    """Load a 16-bit PCM WAV (stereo is averaged to mono)."""
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise AudioError(f"{path}: not a readable WAV file ({exc}); delete it and render again") from exc
    if width != 2:
        raise AudioError(f"{path}: {8 * width}-bit WAV; only 16-bit PCM is supported")
    samples = np.frombuffer(frames, dtype="<i2").astype(np.int16)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).round().astype(np.int16)
    return Clip(samples, rate, label or path.stem)


def write_wav(path: Path, clip: Clip) -> Path:
    """Write clip as a mono 16-bit PCM WAV, creating the folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(clip.sample_rate_hz)
        wav.writeframes(clip.samples.astype("<i2").tobytes())
    return path
