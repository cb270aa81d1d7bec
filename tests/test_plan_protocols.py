"""Protocols: every shipped file validates, lookups work, malformed files give one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tempocoach.errors import CatalogError
from tempocoach.plan import Load, find_protocol, list_protocols, load_protocol_file, parse_protocol
from tempocoach.tempo import parse_tempo

SHIPPED = Path(__file__).resolve().parents[1] / "protocols"

HEAD = 'name = "T"\ndescription = "d"\n[[blocks]]\nname = "B"\n[[blocks.sets]]\n'


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPOCOACH_HOME", str(tmp_path))


def test_every_shipped_protocol_validates() -> None:
    entries = [e for e in list_protocols() if e.origin == "shipped"]
    assert len(entries) >= 10
    for entry in entries:
        assert entry.error is None, entry.error
        assert entry.protocol is not None
        for week in range(1, entry.protocol.total_weeks + 1):
            assert entry.protocol.planned_sets(week)


def test_top_level_protocols_folder_is_the_shipped_one() -> None:
    files = sorted(p.name for p in SHIPPED.glob("*.toml"))
    shipped = sorted(f"{e.id}.toml" for e in list_protocols() if e.origin == "shipped")
    assert files == shipped
    for path in SHIPPED.glob("*.toml"):
        load_protocol_file(path)


def test_required_techniques_are_shipped() -> None:
    kinds = {s.plan.kind for e in list_protocols() if e.protocol for s in e.protocol.planned_sets()}
    assert {"tempo", "paused", "isometric", "pre-activation", "flex"} <= kinds
    classic = {s.plan.tempo for s in find_protocol("classic-tempo").planned_sets()}
    assert {"4040", "31X0", "3110"} <= classic
    slow = find_protocol("slow-eccentric").planned_sets()
    assert all(3 <= (parse_tempo(s.plan.tempo or "").eccentric_s or 0) <= 4 for s in slow)
    finisher = find_protocol("ultra-high-rep").planned_sets()
    assert all(30 <= (s.plan.reps or 0) <= 100 for s in finisher)
    pre = [s for s in find_protocol("pre-activation").planned_sets() if s.plan.kind == "pre-activation"]
    assert pre and all(5 <= (s.plan.duration_s or 0) <= 10 for s in pre)


def test_mind_muscle_progression_has_five_stages_in_order() -> None:
    program = find_protocol("Mind-muscle progression")
    assert [w.name for w in program.weeks] == [
        "Activation", "Skill", "Hypertrophy", "Strength integration", "Deload"]
    reps = {w.name: [s.reps for b in w.blocks for s in b.sets if s.reps] for w in program.weeks}
    assert all(10 <= r <= 15 for r in reps["Activation"])
    assert all(12 <= r <= 15 for r in reps["Skill"])
    assert all(8 <= r <= 12 for r in reps["Hypertrophy"])
    assert all(5 <= r <= 8 for r in reps["Strength integration"])
    assert all(12 <= r <= 20 for r in reps["Deload"])
    skill = [s for b in program.weeks[1].blocks for s in b.sets]
    assert any(p.kind == "paused" for p in skill)
    assert program.week_for(1).name == "Activation"  # type: ignore[union-attr]
    assert program.week_for(program.total_weeks).name == "Deload"  # type: ignore[union-attr]
    with pytest.raises(CatalogError, match=r"week 99 out of range; it has 1-\d+"):
        program.planned_sets(99)


def test_sets_expand_with_positions_and_numbers() -> None:
    planned = find_protocol("classic-tempo").planned_sets()
    assert [p.position for p in planned] == list(range(9))
    assert [(p.set_number, p.of_sets) for p in planned[:3]] == [(1, 3), (2, 3), (3, 3)]
    assert planned[0].plan.exercise == "back-squat"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('exercise = "squat"\ntempo = "3Z10"\nreps = 5',
         "bad.toml: blocks[0].sets[0].tempo: tempo '3Z10': 'Z' at position 2 is not a digit, X or (NN)"),
        ('exercise = "sqaut"\ntempo = "3010"\nreps = 5',
         "bad.toml: blocks[0].sets[0].exercise: unknown exercise 'sqaut'; closest: back-squat, air-squat"),
        ('exercise = "squat"\ntempo = "3010"\nreps = 5\nrepz = 3',
         "bad.toml: blocks[0].sets[0].repz: unknown field; allowed: exercise, kind, tempo, reps, duration_s,"
         " sets, load, rest_s, focus, placement, cue, notes"),
        ('exercise = "squat"\ntempo = "3010"\nreps = 5\nduration_s = 20',
         "bad.toml: blocks[0].sets[0]: a tempo set counts reps: give reps, not duration_s"),
        ('exercise = "squat"\nkind = "isometric"\nreps = 5',
         "bad.toml: blocks[0].sets[0]: a isometric set is timed: give duration_s (seconds), not reps"),
        ('exercise = "squat"\nkind = "paused"\ntempo = "30X0"\nreps = 5',
         "bad.toml: blocks[0].sets[0]: a paused set needs a pause in its tempo; '30X0' has none"),
        ('exercise = "squat"\ntempo = "3010"\nreps = 5\nload = "lots"',
         "bad.toml: blocks[0].sets[0].load: load 'lots' not understood; use 70%, 100kg, RPE8@5,"
         " bodyweight or very light, light, moderate, moderate-high, high, heavy"),
        ('exercise = "squat"\nkind = "drop"\ntempo = "3010"\nreps = 5',
         "bad.toml: blocks[0].sets[0].kind: Input should be 'tempo', 'paused', 'isometric',"
         " 'pre-activation' or 'flex'"),
    ],
)
def test_malformed_set_gives_one_line_naming_file_and_field(body: str, expected: str) -> None:
    with pytest.raises(CatalogError) as info:
        parse_protocol(HEAD + body, "bad.toml", "bad")
    assert str(info.value) == expected
    assert "\n" not in str(info.value)


def test_malformed_top_level_and_toml_errors() -> None:
    with pytest.raises(CatalogError, match=r"^x.toml: name: required field is missing$"):
        parse_protocol('description = "d"\n[[blocks]]\nname="b"\n[[blocks.sets]]\nexercise="squat"\n'
                       'tempo="3010"\nreps=3', "x.toml", "x")
    with pytest.raises(CatalogError, match=r"^x.toml: not valid TOML \("):
        parse_protocol('name = "a', "x.toml", "x")
    with pytest.raises(CatalogError, match=r"give either \[\[blocks\]\] .* or \[\[weeks\]\]"):
        parse_protocol('name = "a"\ndescription = "d"', "x.toml", "x")
    with pytest.raises(CatalogError, match=r"^x.toml: weeks\[0\].blocks\[0\].sets\[0\].reps: "):
        parse_protocol('name="a"\ndescription="d"\n[[weeks]]\nname="w"\n[[weeks.blocks]]\nname="b"\n'
                       '[[weeks.blocks.sets]]\nexercise="squat"\ntempo="3010"\nreps=0', "x.toml", "x")


def test_user_protocols_listed_beside_shipped_and_win_lookup(tmp_path: Path) -> None:
    user_dir = tmp_path / "config" / "protocols"
    user_dir.mkdir(parents=True)
    mine = HEAD.replace('"T"', '"My classic"') + 'exercise = "bench"\ntempo = "2020"\nreps = 4'
    (user_dir / "classic-tempo.toml").write_text(mine, encoding="utf-8")
    (user_dir / "broken.toml").write_text("name = 3", encoding="utf-8")
    entries = list_protocols()
    origins = {(e.id, e.origin) for e in entries}
    assert ("classic-tempo", "shipped") in origins and ("classic-tempo", "user") in origins
    broken = next(e for e in entries if e.id == "broken")
    assert broken.protocol is None and broken.error and "broken.toml" in broken.error
    assert find_protocol("classic-tempo").name == "My classic"
    with pytest.raises(CatalogError, match="unknown protocol 'clasic-tempo'; closest: classic-tempo"):
        find_protocol("clasic-tempo")


@pytest.mark.parametrize(
    ("text", "percent"),
    [("70%", 70.0), ("70% 1RM", 70.0), ("light", 50.0), ("moderate-high", 75.0), ("RPE8@5", 81.1)],
)
def test_load_text_forms(text: str, percent: float) -> None:
    load = Load.parse(text)
    estimate = load.estimate_percent_1rm()
    assert estimate is not None and estimate == pytest.approx(percent, abs=0.05)


def test_load_in_kg_needs_a_one_rep_max() -> None:
    load = Load.parse("100 kg")
    assert load.kg == 100.0 and load.estimate_percent_1rm() is None
    assert load.estimate_percent_1rm(one_rm_kg=125.0) == pytest.approx(80.0)
    assert Load.parse("bodyweight").bodyweight
    with pytest.raises(ValueError, match="RPE must be 6 to 10"):
        Load.parse("RPE12@3")
    with pytest.raises(ValueError, match="the RPE chart covers 1-12 reps"):
        Load.parse("RPE8@20")
