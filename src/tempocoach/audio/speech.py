"""Speech: render cue phrases to WAV once with espeak-ng, cache them on disk, hand back the file.

Two engines drive espeak-ng:
- "pyttsx3": the espeak-ng library through pyttsx3, on ONE dedicated thread fed by a queue, because
  pyttsx3 hangs or loses output when two threads use an engine, and writes only the last
  save_to_file queued before runAndWait. Each job is exactly one save_to_file + runAndWait.
- "espeak-ng": the `espeak-ng -v VOICE -s WPM -w FILE TEXT` command, one process per phrase.
"auto" tries pyttsx3 first and falls back to the command when pyttsx3 cannot start.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import importlib.metadata
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from tempocoach.audio.clip import Clip, read_wav, write_wav
from tempocoach.errors import AudioError

EngineChoice = Literal["auto", "pyttsx3", "espeak-ng"]
ENGINE_CHOICES: tuple[EngineChoice, ...] = ("auto", "pyttsx3", "espeak-ng")
INSTALL_HINT = "install it: apt-get install espeak-ng"
RENDER_TIMEOUT_S = 20.0
# Bump when what is stored changes, so old cache files are not reused: 2 = silence trimmed.
CACHE_FORMAT = 2


@dataclass(frozen=True)
class VoiceInfo:
    """One espeak-ng voice: file id (gmw/en-us), language code (en-us), display name, gender."""

    id: str
    language: str
    name: str
    gender: str = ""

    def matches(self, wanted: str) -> bool:
        wanted = wanted.strip().lower()
        return wanted in (self.id.lower(), self.language.lower(), self.name.lower())


@dataclass(frozen=True)
class RenderStats:
    """What prerender did: phrases synthesised (cold), found in the cache (warm), wall seconds."""

    cold: int
    warm: int
    seconds: float


class SpeechEngine(Protocol):
    name: str

    @property
    def version(self) -> str: ...

    def voices(self) -> list[VoiceInfo]: ...

    def render_to(self, text: str, voice: str, rate_wpm: int, path: Path) -> None: ...


# ---------------------------------------------------------------- espeak-ng command


def _espeak_binary() -> str:
    found = shutil.which("espeak-ng")
    if found is None:
        raise AudioError(f"espeak-ng is not installed (not found on PATH); {INSTALL_HINT}")
    return found


class EspeakCommandEngine:
    """Runs the espeak-ng command for each phrase."""

    name = "espeak-ng"

    def __init__(self) -> None:
        self._binary = _espeak_binary()
        self._version: str | None = None

    @property
    def version(self) -> str:
        if self._version is None:
            out = self._run(["--version"]).stdout
            match = re.search(r"(\d+\.\d+(?:\.\d+)?)", out)
            self._version = match.group(1) if match else out.strip()
        return self._version

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [self._binary, *args], capture_output=True, text=True, timeout=RENDER_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise AudioError(f"espeak-ng at {self._binary} could not run ({exc}); {INSTALL_HINT}") from exc

    def voices(self) -> list[VoiceInfo]:
        result = self._run(["--voices"])
        return parse_voice_table(result.stdout)

    def render_to(self, text: str, voice: str, rate_wpm: int, path: Path) -> None:
        # "--" stops a phrase starting with "-" being read as an option.
        result = self._run(["-v", voice, "-s", str(rate_wpm), "-w", str(path), "--", text])
        if result.returncode != 0 or not path.exists():
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise AudioError(
                f"espeak-ng failed for voice {voice!r} ({detail[-1] if detail else result.returncode}); "
                "check the voice with `tempocoach voices`"
            )


def parse_voice_table(table: str) -> list[VoiceInfo]:
    """Parse `espeak-ng --voices`: Pty Language Age/Gender VoiceName File Other-languages."""
    voices = []
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 5:
            continue
        gender = {"M": "male", "F": "female"}.get(fields[2].rpartition("/")[2], "")
        voices.append(
            VoiceInfo(id=fields[4], language=fields[1], name=fields[3].replace("_", " "), gender=gender)
        )
    return voices


# ---------------------------------------------------------------- pyttsx3 on one thread


def _quiet_print(*args: Any, **kwargs: Any) -> None:
    """Stands in for print inside pyttsx3's espeak driver: drops its 'Audio saved to' line."""
    text = " ".join(str(a) for a in args)
    if not text.startswith("Audio saved to"):
        print(text, file=sys.stderr)


@dataclass
class _Job:
    run: Callable[[Any], Any]
    result: concurrent.futures.Future[Any]


class _Pyttsx3Thread:
    """The one thread that owns the pyttsx3 engine; everything else sends it jobs."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[_Job] = queue.Queue()
        self.applied: tuple[str, int] | None = None  # espeak-ng's voice and rate as last set
        self._started: concurrent.futures.Future[str] = concurrent.futures.Future()
        threading.Thread(target=self._serve, name="tempocoach-tts", daemon=True).start()
        self.version = self._started.result(timeout=RENDER_TIMEOUT_S)

    def _serve(self) -> None:
        try:
            import pyttsx3
            import pyttsx3.drivers.espeak as espeak_driver

            engine = pyttsx3.init("espeak")
            espeak_driver.__dict__["print"] = _quiet_print
            espeak_version = espeak_driver._espeak.Info(None).decode("utf-8", "replace").split()[0]
            self._started.set_result(f"{importlib.metadata.version('pyttsx3')}/espeak-ng-{espeak_version}")
        except Exception as exc:  # ImportError, OSError (no libespeak-ng), RuntimeError from init
            self._started.set_exception(exc)
            return
        while True:
            job = self._jobs.get()
            try:
                job.result.set_result(job.run(engine))
            except Exception as exc:  # handed to the caller, who turns it into an AudioError
                job.result.set_exception(exc)

    def call(self, run: Callable[[Any], Any]) -> Any:
        job = _Job(run, concurrent.futures.Future())
        self._jobs.put(job)
        return job.result.result(timeout=RENDER_TIMEOUT_S)


_THREAD_LOCK = threading.Lock()
_TTS_THREAD: _Pyttsx3Thread | None = None


def _tts_thread() -> _Pyttsx3Thread:
    """The process-wide pyttsx3 thread (espeak-ng's library may be initialised only once)."""
    global _TTS_THREAD
    with _THREAD_LOCK:
        if _TTS_THREAD is None:
            try:
                _TTS_THREAD = _Pyttsx3Thread()
            except Exception as exc:
                raise AudioError(f"pyttsx3 could not start espeak-ng ({exc}); {INSTALL_HINT}") from exc
        return _TTS_THREAD


def _apply_voice_and_rate(voice: str, rate_wpm: int) -> None:
    """Set espeak-ng's voice and rate directly, with its command queue drained first.

    pyttsx3's own setProperty is queued and, measured here, is silently ignored for about half of
    the rate changes between utterances (espeak-ng's asynchronous mode); setting the parameters
    while espeak-ng is idle took effect every time (0 misses in 120 changes).
    """
    from pyttsx3.drivers import _espeak

    _espeak.Synchronize()
    if _espeak.SetVoiceByName(voice.encode("utf-8")) != 0:
        raise ValueError(f"espeak-ng rejected voice {voice!r}")
    _espeak.SetParameter(_espeak.RATE, rate_wpm, 0)
    _espeak.Synchronize()
    if _espeak.GetParameter(_espeak.RATE) != rate_wpm:
        raise RuntimeError(f"espeak-ng kept rate {_espeak.GetParameter(_espeak.RATE)} instead of {rate_wpm}")


class Pyttsx3Engine:
    """pyttsx3 driving the espeak-ng library, serialised through one thread."""

    name = "pyttsx3"

    def __init__(self) -> None:
        self._thread = _tts_thread()

    @property
    def version(self) -> str:
        return self._thread.version

    def voices(self) -> list[VoiceInfo]:
        def list_voices(engine: Any) -> list[VoiceInfo]:
            found = []
            for v in engine.getProperty("voices"):
                language = v.languages[0] if v.languages else ""
                found.append(
                    VoiceInfo(id=v.id, language=language, name=v.name, gender=(v.gender or "").lower())
                )
            return found

        result: list[VoiceInfo] = self._thread.call(list_voices)
        return result

    def render_to(self, text: str, voice: str, rate_wpm: int, path: Path) -> None:
        def render(engine: Any) -> None:
            if self._thread.applied != (voice, rate_wpm):
                _apply_voice_and_rate(voice, rate_wpm)
                self._thread.applied = (voice, rate_wpm)
            engine.save_to_file(text, str(path))
            engine.runAndWait()

        try:
            self._thread.call(render)
        except concurrent.futures.TimeoutError as exc:
            raise AudioError(
                f"pyttsx3 did not finish rendering {text!r} in {RENDER_TIMEOUT_S:.0f} s; "
                "retry with --engine espeak-ng"
            ) from exc
        except (ValueError, RuntimeError) as exc:
            raise AudioError(f"pyttsx3 could not render {text!r} with voice {voice!r} ({exc})") from exc
        if not path.exists():
            raise AudioError(f"pyttsx3 wrote no audio for {text!r}; retry with --engine espeak-ng")


def open_engine(choice: str = "auto") -> SpeechEngine:
    """The engine asked for; "auto" is pyttsx3 when it starts, else the espeak-ng command."""
    if choice not in ENGINE_CHOICES:
        raise AudioError(f"unknown speech engine {choice!r}; choose one of {', '.join(ENGINE_CHOICES)}")
    if choice == "pyttsx3":
        return Pyttsx3Engine()
    if choice == "espeak-ng":
        return EspeakCommandEngine()
    try:
        return Pyttsx3Engine()
    except AudioError:
        return EspeakCommandEngine()


# ---------------------------------------------------------------- the cached renderer


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "phrase"


class SpeechRenderer:
    """Renders phrases to mono 16-bit WAV files under cache_dir, one file per (text, voice, rate, engine)."""

    def __init__(
        self, voice: str = "en-us", rate_wpm: int = 170, cache_dir: Path | None = None, engine: str = "auto"
    ) -> None:
        if not 80 <= rate_wpm <= 450:
            raise AudioError(f"speech rate {rate_wpm} wpm is outside espeak-ng's 80..450; pick e.g. 170")
        if cache_dir is None:
            from tempocoach.config import cache_dir as default_cache_dir

            cache_dir = default_cache_dir() / "speech"
        self.voice = voice
        self.rate_wpm = rate_wpm
        self.cache_dir = Path(cache_dir)
        self.engine = open_engine(engine)
        self._may_fall_back = engine == "auto"  # to the espeak-ng command if pyttsx3 fails mid-way
        self._voice_checked = False
        self._clips: dict[str, Clip] = {}

    @property
    def engine_name(self) -> str:
        return self.engine.name

    def voices(self) -> list[VoiceInfo]:
        return self.engine.voices()

    def path_for(self, text: str) -> Path:
        """Where text's audio lives in the cache (whether or not it was rendered yet)."""
        key = json.dumps(
            [text, self.voice, self.rate_wpm, self.engine.name, self.engine.version, CACHE_FORMAT]
        )
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
        return self.cache_dir / f"{_slug(text)}-{digest}.wav"

    def _check_voice(self) -> None:
        # espeak-ng's library silently keeps the old voice for an unknown name, so check up front.
        if self._voice_checked:
            return
        voices = self.engine.voices()
        if not any(v.matches(self.voice) for v in voices):
            raise AudioError(
                f"unknown voice {self.voice!r} for espeak-ng; list them with `tempocoach voices`"
            )
        self._voice_checked = True

    def render(self, text: str) -> Path:
        """The WAV for text, rendering it only when the cache has none."""
        text = " ".join(text.split())
        if not text:
            raise AudioError("nothing to say: the phrase is empty")
        try:
            return self._render(text)
        except AudioError:
            if not (self._may_fall_back and self.engine.name == "pyttsx3"):
                raise
        self.engine = EspeakCommandEngine()
        self._may_fall_back = False
        return self._render(text)

    def _render(self, text: str) -> Path:
        path = self.path_for(text)
        if path.exists():
            return path
        self._check_voice()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.part.wav")
        try:
            self.engine.render_to(text, self.voice, self.rate_wpm, part)
            clip = read_wav(part)
            if len(clip) == 0:
                raise AudioError(f"{self.engine.name} rendered no samples for {text!r}")
            # espeak-ng pads ~10-50 ms before the first sound and ~320 ms after the last: trimmed,
            # a count starts on its beat and a one-word cue holds the voice half as long.
            write_wav(part, clip.trimmed())
            part.replace(path)  # atomic: a reader never sees half a file
        finally:
            part.unlink(missing_ok=True)
        return path

    def is_cached(self, text: str) -> bool:
        return self.path_for(" ".join(text.split())).exists()

    def prerender(self, phrases: Iterable[str]) -> RenderStats:
        """Render every phrase not yet cached; count what was synthesised and what was found."""
        started = time.perf_counter()
        cold = warm = 0
        for text in dict.fromkeys(" ".join(p.split()) for p in phrases if p.strip()):
            if self.is_cached(text):
                warm += 1
            else:
                self.render(text)
                cold += 1
        return RenderStats(cold=cold, warm=warm, seconds=time.perf_counter() - started)

    def durations_s(self, phrases: Iterable[str]) -> dict[str, float]:
        """How long each phrase sounds (rendering what is not cached), e.g. for the coach's layout."""
        return {text: self.clip(text).duration_s for text in phrases if text.strip()}

    def clip(self, text: str) -> Clip:
        """The phrase as an in-memory Clip (rendered or read from cache once per renderer)."""
        if text not in self._clips:
            self._clips[text] = read_wav(self.render(text), label=text)
        return self._clips[text]
