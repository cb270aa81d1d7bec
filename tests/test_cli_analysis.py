"""`tempocoach analyze` and `tempocoach demo` as a user runs them: exit codes, one-line errors, outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from tempocoach.commands.demo import DetectorView
from tempocoach.events import Phase, PhaseEvent
from tempocoach.sensors.files import write_recording
from tempocoach.sensors.simulator import simulate_set
from tempocoach.tempo import parse_tempo

REPO = Path(__file__).resolve().parents[1]


def tempocoach(*args: str, home: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TEMPOCOACH_HOME": str(home), "TERM": "dumb", "COLUMNS": "100",
           "ALSA_CONFIG_PATH": f"/usr/share/alsa/alsa.conf:{REPO / 'tests' / 'asound-nocard.conf'}"}
    return subprocess.run([sys.executable, "-m", "tempocoach.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rec") / "squat.csv"
    sim = simulate_set("back-squat", "31X0", reps=5, placement="bar", rate_hz=100, seed=3)
    write_recording(path, sim.batch)
    return path


def test_analyze_writes_the_contract_json_and_a_figure(recording: Path, tmp_path: Path) -> None:
    out_json, out_png = tmp_path / "a.json", tmp_path / "a.png"
    done = tempocoach("analyze", str(recording), "--tempo", "3-1-X-0", "--exercise", "squat",
                      "--json", str(out_json), "--plot", str(out_png), home=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(out_json.read_text())
    assert data["tempo"] == "31X0" and data["exercise"] == "back-squat" and data["placement"] == "bar"
    assert data["summary"]["reps"] == len(data["reps"]) > 0
    assert 0.0 <= data["summary"]["adherence"] <= 1.0
    rep = data["reps"][0]
    assert {"index", "start", "end", "phases"} <= rep.keys()
    names = [p["name"] for p in rep["phases"]]
    assert names == ["eccentric", "bottom_pause", "concentric", "top_pause"]
    for phase in rep["phases"]:
        assert {"name", "start", "end", "duration", "target", "verdict"} <= phase.keys()
        assert phase["duration"] == pytest.approx(phase["end"] - phase["start"], abs=2e-3)
    assert out_png.read_bytes().startswith(b"\x89PNG")
    assert "Set summary" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tempo", "3a10", "--exercise", "back-squat"], "tempo '3a10': 'a' at position 2"),
        (["-t", "31X0", "--exercise", "bench pres"], "unknown exercise 'bench pres'; closest: bench-press"),
        (["-t", "31X0", "--exercise", "leg-press", "--placement", "wrist"], "does not move with this lift"),
    ],
)
def test_analyze_errors_are_one_line_with_exit_2(
    recording: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    done = tempocoach("analyze", str(recording), *args, home=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("tempocoach: error:")
    assert "Traceback" not in done.stderr


def test_analyze_names_the_bad_file_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("t,ax,ay,az,gx,gy,gz\n0.00,0,0,9.8,0,0,0\n0.01,0,abc,9.8,0,0,0\n")
    done = tempocoach("analyze", str(bad), "--tempo", "31X0", "--exercise", "back-squat", home=tmp_path)
    assert done.returncode == 2
    assert "bad.csv line 3, column 'ay': 'abc' is not a number" in done.stderr
    missing = tempocoach("analyze", str(tmp_path / "nope.csv"), "-t", "31X0", "-e", "bench", home=tmp_path)
    assert missing.returncode == 2 and "no such file" in missing.stderr


@pytest.mark.slow
def test_demo_coaches_a_set_over_the_emulated_sensor_and_writes_its_outputs(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    done = tempocoach("demo", "--speed", "12", "--reps", "3", "--no-audio", "--out", str(out), home=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "detector: rep 1 eccentric" in done.stdout
    assert "Set summary" in done.stdout
    assert "» Demo. 1 set." in done.stdout
    assert (out / "demo.png").read_bytes().startswith(b"\x89PNG")
    with wave.open(str(out / "demo.wav")) as wav:
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    assert frames.size > 0 and np.abs(frames).max() > 1000  # the coach really spoke


def test_the_demo_view_says_when_the_detector_starts_a_phase_over() -> None:
    console = Console(record=True, width=120)
    view = DetectorView(console, parse_tempo("31X0"), planned_reps=5)
    view.event(PhaseEvent("phase", 1, 2.0, 2.04, phase=Phase.ECCENTRIC))
    view.event(PhaseEvent("phase", 1, 5.0, 5.03, phase=Phase.ECCENTRIC))  # the first was a walk-out dip
    view.event(PhaseEvent("phase", 1, 8.0, 8.05, phase=Phase.BOTTOM_PAUSE))
    view.event(PhaseEvent("phase", 2, 12.2, 12.02, phase=Phase.BOTTOM_PAUSE))  # extrapolated ahead
    lines = console.export_text().splitlines()
    assert lines[0].endswith("seen 40 ms after it began")
    assert lines[1].endswith("seen 30 ms after it began again")
    assert lines[2].endswith("seen 50 ms after it began")
    assert lines[3].endswith("called 180 ms before it began, as the bar settled")
