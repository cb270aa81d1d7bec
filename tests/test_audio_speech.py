"""Speech rendering with the real espeak-ng, through both engines, and its disk cache."""

from __future__ import annotations

import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from tempocoach.audio.clip import read_wav, write_wav
from tempocoach.audio.speech import SpeechRenderer, parse_voice_table
from tempocoach.audio.tones import tone
from tempocoach.errors import AudioError

ENGINES = ["pyttsx3", "espeak-ng"]


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPOCOACH_HOME", str(tmp_path / "home"))


@pytest.mark.parametrize("engine", ENGINES)
def test_render_writes_a_real_mono_16bit_wav_of_plausible_length(engine: str, tmp_path: Path) -> None:
    renderer = SpeechRenderer("en-us", 170, tmp_path / "cache", engine=engine)
    text = "down, two, three, four, hold, and drive"
    path = renderer.render(text)

    raw = path.read_bytes()
    assert raw[:4] == b"RIFF" and raw[8:12] == b"WAVE"
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        assert wav.getframerate() == 22050
    clip = read_wav(path)
    assert clip.rms() > 0.02, "speech should not be silence"
    words = len(text.split())
    expected_s = words / (170 / 60)
    assert 0.5 * expected_s < clip.duration_s < 2.0 * expected_s + 0.5


@pytest.mark.parametrize("engine", ENGINES)
def test_faster_rate_gives_shorter_audio(engine: str, tmp_path: Path) -> None:
    text = "squeeze your chest at the top"
    slow = read_wav(SpeechRenderer("en-us", 120, tmp_path, engine=engine).render(text))
    fast = read_wav(SpeechRenderer("en-us", 300, tmp_path, engine=engine).render(text))
    assert fast.duration_s < 0.7 * slow.duration_s


def test_pyttsx3_engine_does_not_print_its_saved_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    SpeechRenderer("en-us", 170, tmp_path, engine="pyttsx3").render("quiet please")
    out, _ = capfd.readouterr()
    assert "Audio saved to" not in out


@pytest.mark.parametrize("engine", ENGINES)
def test_second_render_is_a_cache_hit(engine: str, tmp_path: Path) -> None:
    renderer = SpeechRenderer("en-us", 170, tmp_path, engine=engine)
    path = renderer.render("three")
    # Replace the cached speech with a tone: a re-render would overwrite it, a cache hit keeps it.
    marker = tone(880.0, 0.25)
    write_wav(path, marker)
    again = SpeechRenderer("en-us", 170, tmp_path, engine=engine)
    assert again.render("three") == path
    assert read_wav(path).samples.tolist() == marker.samples.tolist()
    # Whitespace differences are the same phrase.
    assert again.render("  three ") == path


@pytest.mark.parametrize("engine", ENGINES)
def test_rendered_speech_starts_on_its_first_sound_and_drops_the_tail(engine: str, tmp_path: Path) -> None:
    renderer = SpeechRenderer("en-us", 170, tmp_path, engine=engine)
    clip = read_wav(renderer.render("two"))
    loud = np.nonzero(np.abs(clip.samples.astype(np.int32)) > 0.01 * 32768)[0]
    assert loud[0] / clip.sample_rate_hz < 0.015
    assert (len(clip) - loud[-1]) / clip.sample_rate_hz < 0.06
    assert clip.samples[-1] == 0  # faded out, no click at the cut
    assert clip.duration_s < 0.5  # espeak-ng's own file for "two" runs 0.64 s, half of it silence
    assert renderer.durations_s(["two", " "]) == {"two": clip.duration_s}


def test_cache_key_includes_voice_rate_and_engine(tmp_path: Path) -> None:
    paths = {
        SpeechRenderer("en-us", 170, tmp_path, engine="espeak-ng").path_for("hold"),
        SpeechRenderer("en-gb", 170, tmp_path, engine="espeak-ng").path_for("hold"),
        SpeechRenderer("en-us", 200, tmp_path, engine="espeak-ng").path_for("hold"),
        SpeechRenderer("en-us", 170, tmp_path, engine="pyttsx3").path_for("hold"),
    }
    assert len(paths) == 4


def test_prerender_counts_cold_then_warm(tmp_path: Path) -> None:
    phrases = ["one", "two", "three", "two", "squeeze", ""]
    first = SpeechRenderer("en-us", 170, tmp_path, engine="pyttsx3").prerender(phrases)
    assert (first.cold, first.warm) == (4, 0)
    second = SpeechRenderer("en-us", 170, tmp_path, engine="pyttsx3").prerender([*phrases, "four"])
    assert (second.cold, second.warm) == (1, 4)
    assert len(list(tmp_path.glob("*.wav"))) == 5
    assert not list(tmp_path.glob("*.part.wav"))


def test_clip_is_read_once_and_labelled(tmp_path: Path) -> None:
    renderer = SpeechRenderer("en-us", 170, tmp_path, engine="espeak-ng")
    clip = renderer.clip("lower slowly")
    assert clip.label == "lower slowly"
    assert renderer.clip("lower slowly") is clip


@pytest.mark.parametrize("engine", ENGINES)
def test_voices_list_has_american_english(engine: str, tmp_path: Path) -> None:
    voices = SpeechRenderer("en-us", 170, tmp_path, engine=engine).voices()
    assert len(voices) > 50
    assert any(v.matches("en-us") and "America" in v.name for v in voices)


@pytest.mark.parametrize("engine", ENGINES)
def test_unknown_voice_is_a_one_line_error(engine: str, tmp_path: Path) -> None:
    renderer = SpeechRenderer("xx-nowhere", 170, tmp_path, engine=engine)
    with pytest.raises(AudioError, match=r"unknown voice 'xx-nowhere'.*tempocoach voices"):
        renderer.render("hello")


def test_missing_espeak_ng_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no espeak-ng on PATH
    with pytest.raises(AudioError, match="apt-get install espeak-ng") as info:
        SpeechRenderer("en-us", 170, tmp_path, engine="espeak-ng")
    assert "\n" not in str(info.value)


def test_bad_rate_and_engine_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"80\.\.450"):
        SpeechRenderer("en-us", 20, tmp_path)
    with pytest.raises(AudioError, match="unknown speech engine"):
        SpeechRenderer("en-us", 170, tmp_path, engine="festival")
    with pytest.raises(AudioError, match="empty"):
        SpeechRenderer("en-us", 170, tmp_path, engine="espeak-ng").render("   ")


def test_auto_falls_back_to_the_command_when_pyttsx3_is_unavailable(tmp_path: Path) -> None:
    # A fresh interpreter where importing pyttsx3 fails: auto must pick the espeak-ng command.
    script = (
        "import sys; sys.modules['pyttsx3'] = None\n"
        "from pathlib import Path\n"
        "from tempocoach.audio.speech import SpeechRenderer\n"
        f"r = SpeechRenderer('en-us', 170, Path({str(tmp_path)!r}))\n"
        "print(r.engine_name, r.render('fallback works').stat().st_size)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    engine_name, size = result.stdout.split()
    assert engine_name == "espeak-ng"
    assert int(size) > 1000


def test_auto_switches_to_the_command_when_pyttsx3_fails_mid_session(tmp_path: Path) -> None:
    # Fault injection in a fresh interpreter: espeak-ng's library starts refusing voices.
    script = (
        "from pathlib import Path\n"
        "from pyttsx3.drivers import _espeak\n"
        "from tempocoach.audio.speech import SpeechRenderer\n"
        f"r = SpeechRenderer('en-us', 170, Path({str(tmp_path)!r}))\n"
        "before = r.engine_name\n"
        "_espeak.SetVoiceByName = lambda name: 2  # EE_INTERNAL_ERROR\n"
        "path = r.render('still speaking')\n"
        "print(before, r.engine_name, path.stat().st_size)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    before, after, size = result.stdout.split()
    assert (before, after) == ("pyttsx3", "espeak-ng")
    assert int(size) > 1000


def test_auto_prefers_pyttsx3(tmp_path: Path) -> None:
    assert SpeechRenderer("en-us", 170, tmp_path).engine_name == "pyttsx3"


def test_parse_voice_table_reads_espeak_columns() -> None:
    table = (
        "Pty Language       Age/Gender VoiceName          File                 Other Languages\n"
        " 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)\n"
        " 5  fr-fr           --/F      French             roa/fr\n"
    )
    voices = parse_voice_table(table)
    assert [(v.id, v.language, v.name, v.gender) for v in voices] == [
        ("gmw/en-US", "en-us", "English (America)", "male"),
        ("roa/fr", "fr-fr", "French", "female"),
    ]


def test_pyttsx3_follows_every_rate_change_like_the_command(tmp_path: Path) -> None:
    # pyttsx3's queued setProperty drops about half of the rate changes between utterances; the
    # engine sets espeak-ng's parameters itself. Alternate rates and compare with the command.
    reference = {
        rate: read_wav(SpeechRenderer("en-us", rate, tmp_path / "cli", engine="espeak-ng").render("three"))
        for rate in (120, 300)
    }
    for k, rate in enumerate([120, 300, 120, 300, 300, 120, 300, 120]):
        renderer = SpeechRenderer("en-us", rate, tmp_path / f"py{k}", engine="pyttsx3")
        duration_s = read_wav(renderer.render("three")).duration_s
        assert duration_s == pytest.approx(reference[rate].duration_s, rel=0.1), f"change {k} to {rate} wpm"
