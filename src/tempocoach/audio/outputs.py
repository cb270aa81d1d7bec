"""Where played audio goes: plug-in outputs behind one small interface.

- SimpleaudioOutput: the sound card through ALSA (simpleaudio). With no card it raises
  AudioDeviceUnavailable, which the player turns into silence plus one notice.
- WavFileOutput: `run --wav FILE.wav` (the audio without a speaker). Every clip is placed on a
  timeline at its session time and the whole session is written as one WAV on close().
- NullOutput: plays nothing, counts what it was given.
"""

from __future__ import annotations

import ctypes
import time
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from tempocoach.audio.clip import SAMPLE_RATE_HZ, Clip, write_wav
from tempocoach.errors import AudioError


class AudioDeviceUnavailable(AudioError):
    """No sound device could be opened (no card, no ALSA, simpleaudio missing)."""


class AudioOutput(ABC):
    """A sink for clips. play() starts a clip now; at_s is the session time of that moment."""

    name = "output"
    # True when the output can place sound at a past instant (a file timeline): the player then
    # starts each clip at the exact instant it became due instead of at the pump that noticed it.
    places_on_timeline = False

    def __init__(self, sample_rate_hz: int = SAMPLE_RATE_HZ) -> None:
        self.sample_rate_hz = sample_rate_hz

    @abstractmethod
    def play(self, clip: Clip, at_s: float) -> None: ...

    @abstractmethod
    def stop(self, at_s: float) -> None:
        """Cut whatever is sounding at session time at_s."""

    def close(self) -> None:  # noqa: B027 - most outputs have nothing to release
        """Release the device or write the file; safe to call twice."""

    def __enter__(self) -> AudioOutput:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class NullOutput(AudioOutput):
    name = "silent"

    def __init__(self, sample_rate_hz: int = SAMPLE_RATE_HZ) -> None:
        super().__init__(sample_rate_hz)
        self.played: list[tuple[float, str]] = []

    def play(self, clip: Clip, at_s: float) -> None:
        self.played.append((at_s, clip.label))

    def stop(self, at_s: float) -> None:
        pass


_ALSA_ERROR_HANDLER: Any = None


def quiet_alsa_errors() -> bool:
    """Stop libasound printing its own lines on stderr; our notice says what matters, once."""
    global _ALSA_ERROR_HANDLER
    if _ALSA_ERROR_HANDLER is not None:
        return True
    try:
        libasound = ctypes.CDLL("libasound.so.2")
    except OSError:
        return False
    handler_type = ctypes.CFUNCTYPE(
        None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p
    )
    _ALSA_ERROR_HANDLER = handler_type(lambda *_: None)  # kept global: ALSA holds the pointer
    libasound.snd_lib_error_set_handler(_ALSA_ERROR_HANDLER)
    return True


class SimpleaudioOutput(AudioOutput):
    """Plays through ALSA's default device. One clip at a time: stop() cuts the current one."""

    name = "simpleaudio"

    def __init__(self, sample_rate_hz: int = SAMPLE_RATE_HZ, *, quiet_alsa: bool = True) -> None:
        super().__init__(sample_rate_hz)
        try:
            import simpleaudio
        except ImportError as exc:
            raise AudioDeviceUnavailable(
                f"simpleaudio is not importable ({exc}); install libasound2-dev, then pip install simpleaudio"
            ) from exc
        self._simpleaudio = simpleaudio
        self._playing: Any = None
        if quiet_alsa:
            quiet_alsa_errors()

    def play(self, clip: Clip, at_s: float) -> None:
        clip = clip.resampled(self.sample_rate_hz)
        try:
            self._playing = self._simpleaudio.play_buffer(clip.samples.tobytes(), 1, 2, self.sample_rate_hz)
        except self._simpleaudio._simpleaudio.SimpleaudioError as exc:
            raise AudioDeviceUnavailable(f"no sound device ({str(exc).strip()})") from exc

    def stop(self, at_s: float) -> None:
        if self._playing is not None:
            self._playing.stop()
            self._playing = None

    def wait_done(self, timeout_s: float = 30.0) -> None:
        """Block until the current clip has been handed to the device (or timeout_s passes)."""
        deadline = time.monotonic() + timeout_s
        while self._playing is not None and self._playing.is_playing() and time.monotonic() < deadline:
            time.sleep(0.005)

    def close(self) -> None:
        self.wait_done()
        self._playing = None


class WavFileOutput(AudioOutput):
    """Mixes every clip onto one timeline (sample 0 = session time origin_s) and writes it as a WAV."""

    name = "wav-file"
    places_on_timeline = True

    def __init__(self, path: Path, sample_rate_hz: int = SAMPLE_RATE_HZ, origin_s: float = 0.0) -> None:
        super().__init__(sample_rate_hz)
        self.path = Path(path)
        self.origin_s = origin_s
        self._segments: list[tuple[int, np.ndarray]] = []
        self._closed = False

    def _offset(self, at_s: float) -> int:
        return max(0, round((at_s - self.origin_s) * self.sample_rate_hz))

    def play(self, clip: Clip, at_s: float) -> None:
        self._segments.append((self._offset(at_s), clip.resampled(self.sample_rate_hz).samples))

    def stop(self, at_s: float) -> None:
        if not self._segments:
            return
        start, samples = self._segments[-1]
        keep = max(0, self._offset(at_s) - start)
        self._segments[-1] = (start, samples[:keep])

    def timeline(self) -> Clip:
        """Everything played so far, mixed (overlaps add, saturating at full scale)."""
        end = max((start + len(s) for start, s in self._segments), default=0)
        mix = np.zeros(end, dtype=np.int32)
        for start, samples in self._segments:
            mix[start : start + len(samples)] += samples
        return Clip(np.clip(mix, -32768, 32767).astype(np.int16), self.sample_rate_hz, self.path.stem)

    def close(self) -> None:
        if not self._closed:
            write_wav(self.path, self.timeline())
            self._closed = True


def open_output(kind: str, wav_path: Path | None = None) -> AudioOutput:
    """An output by name: "speaker" (simpleaudio), "wav" (needs wav_path), or "silent"."""
    if kind == "speaker":
        return SimpleaudioOutput()
    if kind == "wav":
        if wav_path is None:
            raise AudioError("the wav output needs a file path; pass --wav FILE.wav")
        return WavFileOutput(wav_path)
    if kind == "silent":
        return NullOutput()
    raise AudioError(f"unknown audio output {kind!r}; choose speaker, wav or silent")
