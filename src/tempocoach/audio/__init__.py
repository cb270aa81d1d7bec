"""Audio edge: speech rendered once and cached, synthesised tones, and a scheduled cue player."""

from tempocoach.audio.clip import SAMPLE_RATE_HZ, Clip, read_wav, silence, write_wav
from tempocoach.audio.outputs import (
    AudioDeviceUnavailable,
    AudioOutput,
    NullOutput,
    SimpleaudioOutput,
    WavFileOutput,
    open_output,
)
from tempocoach.audio.player import Clock, CuePlayer, MonotonicClock, PlayRecord, VirtualClock
from tempocoach.audio.speech import RenderStats, SpeechRenderer, VoiceInfo, open_engine

__all__ = [
    "SAMPLE_RATE_HZ",
    "AudioDeviceUnavailable",
    "AudioOutput",
    "Clip",
    "Clock",
    "CuePlayer",
    "MonotonicClock",
    "NullOutput",
    "PlayRecord",
    "RenderStats",
    "SimpleaudioOutput",
    "SpeechRenderer",
    "VirtualClock",
    "VoiceInfo",
    "WavFileOutput",
    "open_engine",
    "open_output",
    "read_wav",
    "silence",
    "write_wav",
]
