"""Show a SetReport: a rich table + summary panel for the terminal, and a PNG figure.

Rendering returns objects or bytes; the caller prints or writes them. The figure uses matplotlib's
object API on an Agg canvas (no pyplot state), so it is safe to call from any thread.
"""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tempocoach.coach.report import (
    PhaseReport,
    SetReport,
    exercise_display_name,
    format_seconds,
    judge_phase,
)
from tempocoach.events import MotionFrame, Phase, SetRecord

PHASE_LABELS = {
    Phase.ECCENTRIC: "Eccentric",
    Phase.BOTTOM_PAUSE: "Bottom pause",
    Phase.CONCENTRIC: "Concentric",
    Phase.TOP_PAUSE: "Top pause",
}
PHASE_COLOURS = {
    Phase.ECCENTRIC: "#4E79A7",
    Phase.BOTTOM_PAUSE: "#A07CC5",
    Phase.CONCENTRIC: "#F28E2B",
    Phase.TOP_PAUSE: "#76B7B2",
}
VERDICT_COLOURS = {"ok": "#2E9E44", "too fast": "#E0A800", "too slow": "#D62728", "pause skipped": "#3A3A3A"}
VERDICT_STYLES = {"ok": "green", "too fast": "yellow", "too slow": "red", "pause skipped": "bold red"}
_MAX_REP_LABELS = 15
VERDICT_MARKS = {"ok": "✓", "too fast": "fast", "too slow": "slow", "pause skipped": "skipped"}


# --- terminal -------------------------------------------------------------------------------------


def _target_label(report: SetReport, phase: Phase) -> str:
    target_s = report.summary.target_s.get(phase.value)
    if target_s is None:
        return f"X (≤{format_seconds(report.settings.explosive_limit_s)} s)"
    return f"{format_seconds(target_s)} s"


def _cell(p: PhaseReport) -> Text:
    return Text(f"{p.duration_s:.2f} {VERDICT_MARKS[p.verdict]}", style=VERDICT_STYLES[p.verdict])


def render_table(report: SetReport) -> Table:
    """One row per rep, one column per phase: actual seconds and the verdict; a mean row at the end."""
    order = report.phase_order()
    table = Table(
        title=f"{exercise_display_name(report.exercise)} · tempo {report.tempo} · {report.placement} sensor",
        caption="seconds per phase · ✓ on target · fast/slow: outside tolerance",
        header_style="bold",
        title_style="bold",
    )
    several_sets = report.sets > 1
    if several_sets:
        table.add_column("Set", justify="right")
    table.add_column("Rep", justify="right")
    for phase in order:
        table.add_column(f"{PHASE_LABELS[phase]}\n{_target_label(report, phase)}", justify="right")
    table.add_column("Rep time", justify="right")
    for rep in report.reps:
        cells: list[Text | str] = []
        for phase in order:
            p = rep.phase(phase)
            cells.append(_cell(p) if p is not None else Text("–", style="dim"))
        first = [str(rep.set_number)] if several_sets else []
        table.add_row(*first, str(rep.index), *cells, f"{rep.end_s - rep.start_s:.2f}")
    if report.reps:
        table.add_section()
        first = [""] if several_sets else []
        table.add_row(*first, "mean", *[_mean_cell(report, phase) for phase in order], "", style="bold")
    return table


def _mean_cell(report: SetReport, phase: Phase) -> Text:
    mean_s = report.summary.mean_duration_s.get(phase.value)
    if mean_s is None:
        return Text("–", style="dim")
    target_s = report.summary.target_s.get(phase.value)
    verdict = judge_phase(phase, mean_s, target_s, report.settings)
    return Text(f"{mean_s:.2f}", style=VERDICT_STYLES[verdict])


def render_summary_panel(report: SetReport) -> Panel:
    s = report.summary
    consistency = "–" if s.consistency is None else f"{round(100 * s.consistency)}%"
    figures = Text.assemble(
        ("Adherence ", "dim"),
        (f"{round(100 * s.adherence)}%", "bold"),
        ("   Time under tension ", "dim"),
        (f"{s.time_under_tension_s:.1f} s", "bold"),
        ("   Consistency ", "dim"),
        (consistency, "bold"),
    )
    colour = "green" if s.adherence >= report.settings.well_kept_adherence else "yellow"
    return Panel(
        Group(figures, Text(report.summary_text)), title="Set summary", border_style=colour, expand=False
    )


def render_report(report: SetReport) -> Group:
    """Table and summary panel together, ready for Console.print."""
    return Group(render_table(report), render_summary_panel(report))


# --- figure ---------------------------------------------------------------------------------------


def render_figure(report: SetReport, record: SetRecord | None = None, dpi: int = 110) -> bytes:
    """PNG bytes: the motion signal (or a phase timeline) with phases, targets and verdicts on top,
    and per-rep phase durations against their targets below."""
    fig = Figure(figsize=(11.0, 7.0), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, height_ratios=[3, 2])
    motion = record.motion if record is not None else None
    if motion is not None and len(motion) > 1:
        _draw_motion(top, report, motion)
    else:
        _draw_timeline(top, report)
    _draw_durations(bottom, report)
    fig.suptitle(_figure_title(report), fontsize=13, fontweight="bold")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def _figure_title(report: SetReport) -> str:
    s = report.summary
    consistency = "" if s.consistency is None else f", consistency {round(100 * s.consistency)}%"
    head = f"{exercise_display_name(report.exercise)} · {report.tempo} · {s.reps} reps"
    return f"{head}: {round(100 * s.adherence)}% on target, TUT {s.time_under_tension_s:.1f} s{consistency}"


def _draw_motion(ax: Axes, report: SetReport, motion: MotionFrame) -> None:
    scale, label = (100.0, "bar position (cm)") if motion.unit == "m" else (180.0 / np.pi, "joint angle (°)")
    for rep in report.reps:
        for p in rep.phases:
            if p.duration_s > 0:
                ax.axvspan(p.start_s, p.end_s, color=PHASE_COLOURS[p.name], alpha=0.28, lw=0)
    ax.plot(motion.t_s, motion.position * scale, color="#222222", lw=1.4)
    low, high = ax.get_ylim()
    span = high - low
    ax.set_ylim(low - 0.12 * span, high + 0.25 * span)  # room for the verdict strip and target brackets
    ax.set_ylabel(label)
    _draw_targets_and_verdicts(ax, report)
    _annotate_reps(ax, report)
    ax.set_xlabel("time (s)")
    ax.set_xlim(*_time_range(report, motion))
    _add_legend(ax, report)


def _add_legend(ax: Axes, report: SetReport) -> None:
    """One legend row above the panel: phase colours, target brackets, verdict colours."""
    ax.legend(handles=_legend_handles(report), loc="lower left", bbox_to_anchor=(0, 1.0), ncol=9,
              fontsize=8, frameon=False)


def _draw_timeline(ax: Axes, report: SetReport) -> None:
    """No motion signal: one lane per phase, each phase a bar, the target as a bracket over it."""
    order = report.phase_order()
    lane = {phase: len(order) - i for i, phase in enumerate(order)}
    for phase in order:
        shown = [p for rep in report.reps for p in rep.phases if p.name is phase and p.duration_s > 0]
        ax.broken_barh(
            [(p.start_s, p.duration_s) for p in shown],
            (lane[phase] - 0.3, 0.6),
            facecolor=PHASE_COLOURS[phase],
            edgecolor=[VERDICT_COLOURS[p.verdict] if not p.ok else "none" for p in shown],
            linewidth=_edge_width(report),
        )
    ax.set_yticks([lane[p] for p in order], [PHASE_LABELS[p] for p in order])
    ax.set_ylim(0.2, len(order) + 1.0)
    _draw_targets_and_verdicts(ax, report, lane)
    _annotate_reps(ax, report)
    ax.set_xlabel("time (s)")
    ax.set_xlim(*_time_range(report, None))
    _add_legend(ax, report)


def _draw_targets_and_verdicts(ax: Axes, report: SetReport, lanes: dict[Phase, int] | None = None) -> None:
    """A bracket from each phase's start to where it should have ended (over the phase's lane when
    there are lanes, else in a band at the top); a verdict strip along the floor."""
    band = ax.get_xaxis_transform()  # x in seconds, y in axes fraction
    for rep in report.reps:
        for i, p in enumerate(rep.phases):
            if p.target_s is not None and p.target_s > 0:
                end_s = p.start_s + p.target_s
                if lanes is None:
                    y = 0.86 if i % 2 == 0 else 0.80  # alternate so neighbouring brackets do not merge
                    ys, transform = [y, y, y - 0.05], band
                else:
                    y = lanes[p.name] + 0.4
                    ys, transform = [y, y, y - 0.15], ax.transData
                ax.plot(
                    [p.start_s, end_s, end_s],
                    ys,
                    transform=transform,
                    color=PHASE_COLOURS[p.name],
                    lw=1.8,
                    solid_capstyle="butt",
                )
            colour = VERDICT_COLOURS[p.verdict]
            if p.duration_s > 0:
                ax.axvspan(p.start_s, p.end_s, ymin=0.0, ymax=0.035, color=colour, lw=0)
            if p.verdict == "pause skipped":
                ax.plot([p.start_s], [0.035], transform=band, marker="v", color=colour, ms=8)
            if p.verdict == "pause skipped" and len(report.reps) <= _MAX_REP_LABELS:
                ax.text(
                    p.start_s,
                    0.06,
                    "skipped",
                    transform=band,
                    ha="center",
                    va="bottom",
                    fontsize=7,
                    color=colour,
                )


def _annotate_reps(ax: Axes, report: SetReport) -> None:
    band = ax.get_xaxis_transform()
    step = max(1, math.ceil(len(report.reps) / _MAX_REP_LABELS))  # long sets: label every n-th rep
    for rep in report.reps[::step]:
        middle_s = 0.5 * (rep.start_s + rep.end_s)
        ax.text(
            middle_s,
            0.96,
            f"rep {rep.index}",
            transform=band,
            ha="center",
            va="top",
            fontsize=9,
            fontweight="bold",
            color="#333333",
        )
        ax.axvline(rep.start_s, color="#999999", lw=0.6, ls=":")


def _time_range(report: SetReport, motion: MotionFrame | None) -> tuple[float, float]:
    if motion is not None:
        return float(motion.t_s[0]), float(motion.t_s[-1])
    if not report.reps:
        return 0.0, 1.0
    start_s, end_s = report.reps[0].start_s, report.reps[-1].end_s
    margin_s = 0.03 * max(end_s - start_s, 1.0)
    return start_s - margin_s, end_s + margin_s


def _legend_handles(report: SetReport) -> list[Patch | Line2D]:
    handles: list[Patch | Line2D] = [
        Patch(color=PHASE_COLOURS[p], alpha=0.6, label=PHASE_LABELS[p]) for p in report.phase_order()
    ]
    handles.append(Line2D([], [], color="#555555", lw=1.8, label="target length"))
    handles += [Patch(color=c, label=v) for v, c in VERDICT_COLOURS.items()]
    return handles


def _edge_width(report: SetReport) -> float:
    """Verdict outlines thin out on long sets so they do not swallow narrow bars."""
    return 2.0 if len(report.reps) <= _MAX_REP_LABELS else 0.8


def _draw_durations(ax: Axes, report: SetReport) -> None:
    """Grouped bars: each rep's phase durations, a black tick at each target (X: the limit, dashed)."""
    order = report.phase_order()
    width = 0.8 / len(order)
    for k, phase in enumerate(order):
        offset = (k - (len(order) - 1) / 2) * width
        placed = [(i + offset, p) for i, rep in enumerate(report.reps) for p in rep.phases if p.name is phase]
        if not placed:
            continue
        for ok in (True, False):
            group = [(x, p) for x, p in placed if p.ok is ok]
            if group:
                ax.bar(
                    [x for x, _ in group],
                    [p.duration_s for _, p in group],
                    width * 0.92,
                    color=PHASE_COLOURS[phase],
                    edgecolor="none" if ok else [VERDICT_COLOURS[p.verdict] for _, p in group],
                    linewidth=_edge_width(report),
                    hatch=None if ok else "//",
                )
        explosive = placed[0][1].target_s is None
        limit_s = [report.settings.explosive_limit_s if p.target_s is None else p.target_s for _, p in placed]
        xs = [x for x, _ in placed]
        ax.hlines(
            limit_s,
            [x - width / 2 for x in xs],
            [x + width / 2 for x in xs],
            color="black",
            lw=1.6,
            linestyles="--" if explosive else "-",
        )
        skipped = [x for x, p in placed if p.verdict == "pause skipped"]
        if skipped:
            ax.plot(
                skipped,
                [0.0] * len(skipped),
                "x",
                color=VERDICT_COLOURS["pause skipped"],
                ms=7,
                mew=2,
                clip_on=False,
            )
    if len(report.reps) > _MAX_REP_LABELS:
        ax.set_xticks(range(len(report.reps)), [str(r.index) for r in report.reps], fontsize=7)
        ax.set_xlabel("rep")
    else:
        ax.set_xticks(range(len(report.reps)), [f"rep {r.index}" for r in report.reps])
    ax.legend(
        handles=[
            Line2D([], [], color="black", lw=1.6, label="target"),
            Line2D([], [], color="black", lw=1.6, ls="--", label="X limit"),
            Patch(facecolor="white", edgecolor="#777777", hatch="//", label="off target"),
        ],
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncol=3,
        fontsize=8,
        frameon=False,
    )
    ax.set_ylabel("phase duration (s)")
    ax.set_title(f"Main point: {report.summary.main_deviation}", fontsize=10, loc="left")
    ax.grid(axis="y", color="#DDDDDD", lw=0.6)
    ax.set_axisbelow(True)
    ax.margins(x=0.02)
