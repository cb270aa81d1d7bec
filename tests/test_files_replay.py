"""FileReplaySource: a recording streamed back as ImuBatches, in order, paced by sample time."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import numpy as np
import pytest

from tempocoach.sensors.base import ImuBatch, Source
from tempocoach.sensors.files import FileReplaySource, write_recording


def recording(n: int = 1000, rate_hz: float = 200.0) -> ImuBatch:
    t_s = 3.0 + np.arange(n) / rate_hz
    t_s[600:] += 2.0  # a gap the replay must keep
    acc = np.column_stack([np.sin(t_s), np.cos(t_s), 9.81 + 0 * t_s])
    return ImuBatch(t_s, acc, np.column_stack([t_s, -t_s, 0 * t_s]))


async def collect(source: Source) -> list[ImuBatch]:
    return [batch async for batch in source.batches()]


def test_replay_from_file_yields_every_sample_in_order(tmp_path: Path) -> None:
    original = recording()
    path = tmp_path / "set.csv"
    write_recording(path, original)
    source = FileReplaySource(path, chunk_s=0.1)
    assert source.name == "replay:set.csv"
    chunks = asyncio.run(collect(source))
    joined = ImuBatch.concat(chunks)
    np.testing.assert_allclose(joined.t_s, original.t_s, atol=1e-6)
    np.testing.assert_allclose(joined.acc_mps2, original.acc_mps2, rtol=1e-8)
    assert all(c.duration_s < 0.1 for c in chunks)
    assert all(a.t_s[-1] < b.t_s[0] for a, b in itertools.pairwise(chunks))
    assert joined.meta["format"] == "canonical"


def test_replay_keeps_gaps_as_missing_chunks() -> None:
    chunks = asyncio.run(collect(FileReplaySource(recording(), chunk_s=0.1)))
    starts = np.array([c.t_s[0] for c in chunks])
    assert np.max(np.diff(starts)) > 2.0  # nothing was invented inside the 2 s hole
    assert sum(len(c) for c in chunks) == 1000


def test_replay_is_paced_by_sample_time_at_the_given_speed() -> None:
    batch = recording(200, 200.0)  # 1 s of samples
    begun = time.perf_counter()
    chunks = asyncio.run(collect(FileReplaySource(batch, chunk_s=0.05, speed=10.0)))
    elapsed_s = time.perf_counter() - begun
    assert sum(len(c) for c in chunks) == 200
    assert elapsed_s >= 0.09  # 1 s at 10x: the last chunk is due ~0.1 s after the first


def test_replay_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="positive"):
        FileReplaySource(recording(), chunk_s=0)
