"""The Analysis JSON contract of DESIGN.md for a SetReport, both ways.

Times are seconds on the recording's clock rounded to 3 decimals; an explosive (X) phase has
"target": null and "explosive": true. Extra keys beyond the contract: per phase "explosive"; in the
summary "sets", "consistency", "mean_duration", "target", "main_deviation", "text"; per rep "set" (which
set of a recording that held several, from 1); top level "settings",
"source" (when known) and "transcript" ([[t, text], ...], when the set had spoken cues).
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from tempocoach.coach.report import (
    VERDICTS,
    PhaseReport,
    ReportSettings,
    RepReport,
    SetReport,
    SetSummary,
)
from tempocoach.errors import DataFormatError
from tempocoach.events import Phase


def _r3(value_s: float) -> float:
    return round(float(value_s), 3)


def report_to_json(report: SetReport) -> dict[str, Any]:
    s = report.summary
    data: dict[str, Any] = {
        "tempo": report.tempo,
        "exercise": report.exercise,
        "placement": report.placement,
        "reps": [
            {
                "index": rep.index,
                "start": _r3(rep.start_s),
                "end": _r3(rep.end_s),
                "set": rep.set_number,
                "phases": [
                    {
                        "name": p.name.value,
                        "start": _r3(p.start_s),
                        "end": _r3(p.end_s),
                        "duration": _r3(p.duration_s),
                        "target": None if p.target_s is None else _r3(p.target_s),
                        "verdict": p.verdict,
                        "explosive": p.explosive,
                    }
                    for p in rep.phases
                ],
            }
            for rep in report.reps
        ],
        "summary": {
            "reps": s.reps,
            "sets": report.sets,
            "adherence": _r3(s.adherence),
            "time_under_tension": _r3(s.time_under_tension_s),
            "consistency": None if s.consistency is None else _r3(s.consistency),
            "mean_duration": {k: _r3(v) for k, v in s.mean_duration_s.items()},
            "target": {k: None if v is None else _r3(v) for k, v in s.target_s.items()},
            "main_deviation": s.main_deviation,
            "text": report.summary_text,
        },
        "settings": asdict(report.settings),
    }
    if report.source:
        data["source"] = report.source
    if report.transcript:
        data["transcript"] = [[_r3(t), text] for t, text in report.transcript]
    return data


def report_from_json(data: dict[str, Any]) -> SetReport:
    """Re-read a report written by to_json (the logbook and history use this)."""
    try:
        return _from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataFormatError(
            f"analysis JSON: missing or malformed field ({type(exc).__name__}: {exc}); "
            "re-run 'tempocoach analyze' to regenerate it"
        ) from exc


def _from_json(data: dict[str, Any]) -> SetReport:
    reps = [
        RepReport(
            index=int(rep["index"]),
            start_s=float(rep["start"]),
            end_s=float(rep["end"]),
            phases=[_phase_from_json(p) for p in rep["phases"]],
            set_number=int(rep.get("set", 1)),
        )
        for rep in data["reps"]
    ]
    s = data["summary"]
    consistency = s.get("consistency")
    summary = SetSummary(
        reps=int(s["reps"]),
        adherence=float(s["adherence"]),
        time_under_tension_s=float(s["time_under_tension"]),
        consistency=None if consistency is None else float(consistency),
        mean_duration_s={str(k): float(v) for k, v in s.get("mean_duration", {}).items()},
        target_s={str(k): None if v is None else float(v) for k, v in s.get("target", {}).items()},
        main_deviation=str(s.get("main_deviation", "")),
    )
    return SetReport(
        exercise=str(data["exercise"]),
        tempo=str(data["tempo"]),
        placement=str(data["placement"]),
        reps=reps,
        summary=summary,
        summary_text=str(s.get("text", "")),
        transcript=[(float(t), str(text)) for t, text in data.get("transcript", [])],
        source=str(data.get("source", "")),
        settings=_settings_from_json(data.get("settings", {})),
    )


def _phase_from_json(p: dict[str, Any]) -> PhaseReport:
    verdict = p["verdict"]
    if verdict not in VERDICTS:
        raise ValueError(f"verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
    target = p["target"]
    return PhaseReport(
        name=Phase(p["name"]),
        start_s=float(p["start"]),
        end_s=float(p["end"]),
        duration_s=float(p["duration"]),
        target_s=None if target is None else float(target),
        explosive=bool(p.get("explosive", target is None)),
        verdict=verdict,
    )


def _settings_from_json(raw: dict[str, Any]) -> ReportSettings:
    """Known fields only, so a report written by a newer version still reads."""
    known = {f.name for f in fields(ReportSettings)}
    return ReportSettings(**{k: v for k, v in raw.items() if k in known})
