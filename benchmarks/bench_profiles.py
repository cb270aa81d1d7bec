"""Decode cost per BLE notification and sample throughput for every sensor profile.

Each case builds the exact notifications the device would send (the profile's own Encoder) from
simulated samples, then times only Decoder.decode over them. Two shapes per family where the
device allows it: one sample per notification, and the batched frames the device sends.

    .venv/bin/python benchmarks/bench_profiles.py [--samples 20000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tempocoach.sensors.base import STANDARD_GRAVITY, ImuBatch
from tempocoach.sensors.profiles import profile_for
from tempocoach.sensors.profiles.base import Decoder, Encoder, SensorProfile


@dataclass
class Case:
    family: str
    shape: str
    rate_hz: float
    tune: Callable[[Encoder], None] = lambda encoder: None


def set_attr(name: str, value: int) -> Callable[[Encoder], None]:
    def tune(encoder: Encoder) -> None:
        setattr(encoder, name, value)

    return tune


CASES = [
    Case("tempocoach-open", "1 sample/notification", 100.0, set_attr("samples_per_packet", 1)),
    Case("tempocoach-open", "20 samples/packet", 100.0, set_attr("samples_per_packet", 20)),
    Case("polar-h10", "1 sample/frame", 200.0, set_attr("frame_samples", 1)),
    Case("polar-h10", "36 samples/frame (raw)", 200.0, set_attr("frame_samples", 36)),
    Case("polar-verity", "1 sample/frame", 52.0, set_attr("frame_samples", 1)),
    Case("polar-verity", "36 samples/frame (delta)", 52.0, set_attr("frame_samples", 36)),
    Case("movesense", "1 sample/notification", 104.0, set_attr("samples_per_packet", 1)),
    Case("movesense", "8 samples (DATA+PART2)", 208.0, set_attr("samples_per_packet", 8)),
    Case("metawear", "1 sample/notification", 100.0),
    Case("metawear", "3 samples (packed)", 200.0),
    Case("thingy52", "1 sample/notification", 100.0),
    Case("witmotion", "1 frame/notification", 100.0),
    Case("witmotion", "5 frames/notification", 100.0, set_attr("frames_per_notification", 5)),
]


def start(profile: SensorProfile, rate_hz: float, case: Case) -> tuple[Encoder, Decoder]:
    encoder, decoder = profile.encoder(rate_hz), profile.decoder(rate_hz)
    case.tune(encoder)
    pending = list(profile.start_writes(rate_hz))
    while pending:
        write = pending.pop(0)
        for uuid, payload in encoder.handle_write(write.char_uuid, write.data):
            decoder.decode(uuid, payload, 0.0)
            pending += decoder.take_writes()
    return encoder, decoder


def samples(n: int, rate_hz: float) -> ImuBatch:
    rng = np.random.default_rng(1)
    t = np.arange(n) / rate_hz
    acc = np.array([0.0, 0.0, STANDARD_GRAVITY]) + rng.normal(0, 2.0, (n, 3))
    gyr = rng.normal(0, 1.0, (n, 3))
    return ImuBatch(t, acc, gyr)


def run(case: Case, n: int) -> tuple[int, int, float]:
    profile = profile_for(case.family)
    rate = profile.nearest_rate_hz(case.rate_hz)
    encoder, decoder = start(profile, rate, case)
    batch = samples(n, rate)
    notifications = []
    for part in batch.chunks(50):
        notifications += [(uuid, payload, float(part.t_s[-1])) for uuid, payload in encoder.encode(part)]
    t0 = time.perf_counter()
    out = 0
    for uuid, payload, arrival in notifications:
        got = decoder.decode(uuid, payload, arrival)
        if got is not None:
            out += len(got)
    elapsed = time.perf_counter() - t0
    assert decoder.stats.malformed == 0, case
    return len(notifications), out, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--samples", type=int, default=20000)
    args = parser.parse_args()
    print(f"{'profile':16} {'shape':28} {'notif':>7} {'µs/notif':>9} {'samples/s':>12} {'x realtime':>11}")
    for case in CASES:
        count, decoded, elapsed = run(case, args.samples)
        rate = profile_for(case.family).nearest_rate_hz(case.rate_hz)
        per_notification_us = elapsed / count * 1e6
        throughput = decoded / elapsed
        print(
            f"{case.family:16} {case.shape:28} {count:7d} {per_notification_us:9.1f} "
            f"{throughput:12,.0f} {throughput / rate:11,.0f}"
        )


if __name__ == "__main__":
    main()
