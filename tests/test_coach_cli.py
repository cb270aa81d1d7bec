"""`tempocoach cues`: the decision per phase, its reason with --explain, and the cues it would use."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from tempocoach.commands.coaching import register
from tempocoach.errors import TempoCoachError


@pytest.fixture
def app(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setenv("TEMPOCOACH_HOME", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    application = typer.Typer()
    register(application)

    @application.command("noop")
    def _noop() -> None:  # a second command keeps typer in multi-command mode, as in the real CLI
        pass

    return application


def invoke(app: typer.Typer, *args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output


def test_heavy_squat_is_external(app: typer.Typer) -> None:
    out = invoke(app, "cues", "squat", "--load", "85%")
    assert "Back squat" in out and "85% of 1RM as given" in out
    for line in out.splitlines():
        if "│" in line and line.strip().startswith(("eccentric", "concentric")):
            assert "external" in line
    assert "drive the bar to the ceiling" in out
    assert "concentric: external, heavy load (85% >= 80%)" in out
    assert "Rules" not in out and "Phrases to pre-render" not in out  # only with --explain


def test_explain_shows_reasons_corrections_and_phrases(app: typer.Typer) -> None:
    out = invoke(app, "cues", "bench", "--load", "100kg", "--one-rm", "140kg", "--explain")
    assert "71% of 1RM; 1RM 140.0 kg as given" in out
    assert "concentric: external, moderate load (71%)" in out
    assert "eccentric: internal, moderate load (71%)" in out
    assert "slower on the way down" in out
    assert "Phrases to pre-render" in out
    assert "Rules" in out and "<= 60% 1RM internal" in out


def test_beginner_and_estimated_one_rm(app: typer.Typer) -> None:
    out = invoke(
        app,
        "cues",
        "deadlift",
        "--load",
        "120kg",
        "--recent",
        "130kg x3",
        "--experience",
        "beginner",
        "--explain",
    )
    assert "Epley and Brzycki" in out
    assert "beginner on a compound" in out


def test_isolation_at_moderate_load_is_internal(app: typer.Typer) -> None:
    out = invoke(app, "cues", "curl", "--load", "RPE7@10")
    rows = [
        line
        for line in out.splitlines()
        if "│" in line and line.strip().startswith(("eccentric", "concentric"))
    ]
    assert len(rows) == 2 and all("internal" in r for r in rows)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["cues", "squat", "--load", "100kg"], "--one-rm"),
        (["cues", "squat", "--load", "lots"], "not understood"),
        (["cues", "squat", "--experience", "guru"], "experience 'guru'"),
        (["cues", "squat", "--mode", "loud"], "mode 'loud'"),
        (["cues", "sqaut"], "unknown exercise"),
    ],
)
def test_errors_are_tempocoach_errors(app: typer.Typer, args: list[str], needle: str) -> None:
    with pytest.raises(TempoCoachError, match=needle):
        invoke(app, *args)
