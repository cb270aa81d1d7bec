"""`tempocoach protocols list | show | check` through the real typer commands."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tempocoach.commands.training import register
from tempocoach.errors import CatalogError


@pytest.fixture()
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setenv("TEMPOCOACH_HOME", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    application = typer.Typer()
    register(application)
    return application


def test_list_shows_shipped_and_user_protocols_side_by_side(app: typer.Typer, tmp_path: Path) -> None:
    user = tmp_path / "config" / "protocols"
    user.mkdir(parents=True)
    (user / "my-legs.toml").write_text(
        'name = "My legs"\ndescription = "mine"\n[[blocks]]\nname = "B"\n[[blocks.sets]]\n'
        'exercise = "leg-press"\ntempo = "3011"\nreps = 12\nsets = 4\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["protocols", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    classic = next(line for line in lines if "classic-tempo" in line)
    assert "shipped" in classic and " 9 " in classic
    mine = next(line for line in lines if "my-legs" in line)
    assert "user" in mine and "My legs" in mine and " 4 " in mine
    program = next(line for line in lines if "mind-muscle-progression" in line)
    assert " 13 " in program  # weeks


def test_show_lists_every_set_and_each_program_stage(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["protocols", "show", "paused-reps"])
    assert result.exit_code == 0, result.output
    assert " 1. [Main] back-squat 1/3: 5 reps @ 32X0, 70%, rest 150 s (paused)" in result.output
    program = CliRunner().invoke(app, ["protocols", "show", "mind-muscle-progression"])
    stages = ["Activation (weeks 1-2)", "Skill (weeks 3-5)", "Hypertrophy (weeks 6-9)",
              "Strength integration (weeks 10-12)", "Deload (week 13)"]
    positions = [program.output.index(stage) for stage in stages]
    assert positions == sorted(positions)


def test_check_accepts_good_files_and_names_file_and_field_in_bad(app: typer.Typer, tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('name = "G"\ndescription = "d"\n[[blocks]]\nname = "B"\n[[blocks.sets]]\n'
                    'exercise = "bench"\ntempo = "31X0"\nreps = 8\nsets = 2\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["protocols", "check", str(good)])
    assert result.exit_code == 0 and f"{good}: ok (G, 2 sets over 1 week(s))" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text(good.read_text().replace('tempo = "31X0"', 'tempo = "31Y0"'), encoding="utf-8")
    result = CliRunner().invoke(app, ["protocols", "check", str(bad)])
    assert isinstance(result.exception, CatalogError)
    assert str(result.exception) == (
        f"{bad}: blocks[0].sets[0].tempo: tempo '31Y0': 'Y' at position 3 is not a digit, X or (NN)")
