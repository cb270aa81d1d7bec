"""BLE transport figures, measured through the real client path: emulated peripheral (bumble) ->
LocalLink -> bleak BleakClient (bumble backend) -> profile decoder -> BleSensorSource -> consumer.

Run: .venv/bin/python benchmarks/bench_ble.py [--seconds 5]

* latency: from the peripheral starting to encode a chunk of samples and notify it until the consumer holds
  the decoded ImuBatch (p50/p99 µs), and on to the motion pipeline's events (MotionPipeline.update);
  at real-time pacing, 200 Hz, with one sample per notification (Thingy) and with frames (open format).
* throughput: samples/s and notifications/s end to end, paced at 200 Hz (does it keep up, at what CPU
  share) and unpaced (how far above 200 Hz the stack goes).
* reconnect: wall time from a forced peer disconnect to the first batch after reconnection, with the
  default backoff (first retry after 0.2 s) and with a 20 ms first retry.

The link itself is untimed (no radio, no connection interval): real-radio latency adds one connection
interval (7.5-50 ms) that this cannot show; what is measured is this program's share.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass

import numpy as np

from tempocoach.exercises import get_exercise
from tempocoach.motion.pipeline import MotionPipeline
from tempocoach.sensors.base import ImuBatch
from tempocoach.sensors.ble import ReconnectPolicy, profile_by_family, registered_profiles
from tempocoach.sensors.devices import EmulatedSource
from tempocoach.sensors.emulator import EmulatedSensor, Faults
from tempocoach.sensors.simulator import simulate_set
from tempocoach.tempo import parse_tempo

RATE_HZ = 200.0


class StampedSensor(EmulatedSensor):
    """Remembers when the notification carrying each sample time left the peripheral."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.sent_ns: dict[int, int] = {}
        self.disconnected_ns: list[int] = []

    async def _serve(self, chunk: ImuBatch) -> None:
        self._count = getattr(self, "_count", 0) + len(chunk)
        self.sent_ns[self._count - 1] = time.perf_counter_ns()  # by sample count: runs here lose nothing
        await super()._serve(chunk)

    async def force_disconnect(self) -> None:
        self.disconnected_ns.append(time.perf_counter_ns())
        await super().force_disconnect()


@dataclass
class Run:
    samples: int
    packets: int
    wall_s: float
    cpu_s: float
    to_batch_us: list[float]
    to_events_us: list[float]
    reconnect_ms: list[float]


def served_set(seconds: float) -> ImuBatch:
    batch = simulate_set(exercise="back-squat", tempo="31X0", reps=12, placement="bar", rate_hz=RATE_HZ,
                         seed=3).batch
    return batch.slice(0, min(len(batch), int(seconds * RATE_HZ)))


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


async def stream(family: str, served: ImuBatch, speed: float | None, chunk: int, faults: Faults | None,
                 reconnect: ReconnectPolicy | None = None, detect: bool = True) -> Run:
    profile = profile_by_family(family, registered_profiles())
    assert profile is not None
    sensor = StampedSensor(type(profile)(), served, RATE_HZ, speed, faults=faults, chunk_samples=chunk)
    source = EmulatedSource(sensor, reconnect=reconnect or ReconnectPolicy())
    pipe = MotionPipeline(get_exercise("back-squat"), parse_tempo("31X0"), "bar", RATE_HZ)
    to_batch_us: list[float] = []
    to_events_us: list[float] = []
    reconnect_ms: list[float] = []
    samples = 0
    first_ns = last_ns = 0
    cpu0 = 0.0
    async for batch in source.batches():
        got_ns = time.perf_counter_ns()
        if not first_ns:
            first_ns, cpu0 = got_ns, time.process_time()
        last_ns = got_ns
        samples += len(batch)
        if detect:
            pipe.update(batch)
        done_ns = time.perf_counter_ns()
        sent = sensor.sent_ns.get(samples - 1)
        if sent is not None:
            to_batch_us.append((got_ns - sent) / 1e3)
            to_events_us.append((done_ns - sent) / 1e3)
        if len(sensor.disconnected_ns) > len(reconnect_ms):
            reconnect_ms.append((got_ns - sensor.disconnected_ns[len(reconnect_ms)]) / 1e6)
    cpu_s = time.process_time() - cpu0  # from the first batch: connection set-up is not streaming
    wall_s = max(1e-9, (last_ns - first_ns) / 1e9)
    assert source.source is not None
    return Run(samples, source.source.stats.packets, wall_s, cpu_s, to_batch_us, to_events_us, reconnect_ms)


def latency_line(name: str, r: Run) -> str:
    b, e = r.to_batch_us, r.to_events_us
    return (f"{name:31s} notification->ImuBatch p50 {pct(b, 50):5.0f} µs p99 {pct(b, 99):6.0f} µs"
            f" | ->detector p50 {pct(e, 50):5.0f} µs p99 {pct(e, 99):6.0f} µs (n={len(b)})")


def throughput_line(name: str, r: Run) -> str:
    return (f"{name:37s} {r.samples / r.wall_s:7.0f} samples/s {r.packets / r.wall_s:6.0f} notifications/s"
            f"  CPU {100 * r.cpu_s / r.wall_s:5.1f}% of one core over {r.wall_s:.1f} s")


async def main(seconds: float) -> None:
    served = served_set(seconds)
    print(f"BLE transport through bleak + bumble, {RATE_HZ:g} Hz, {len(served)} samples per run\n")
    print("Latency at real-time pacing:")
    one = await stream("thingy", served, 1.0, 1, None)
    framed = await stream("open", served, 1.0, 8, None)
    print(latency_line("thingy, 1 sample/notification", one))
    print(latency_line("open format, 8-sample frames", framed))
    print("\nThroughput:")
    print(throughput_line("paced 200 Hz, 1 sample/notif", one))
    print(throughput_line("paced 200 Hz, 8-sample frames", framed))
    for detect in (False, True):
        fast_one = await stream("thingy", served, None, 1, None, detect=detect)
        fast_framed = await stream("open", served, None, 8, None, detect=detect)
        also = " + detector" if detect else ""
        print(throughput_line(f"unpaced, 1 sample/notif{also}", fast_one))
        print(throughput_line(f"unpaced, 8-sample frames{also}", fast_framed))
    print("\nReconnect after a forced peer disconnect (wall time to the first batch after it):")
    drops = tuple(float(served.t_s[0]) + k * seconds / 5 for k in (1, 2, 3, 4))
    for label, policy in (("default backoff (0.2 s first retry)", ReconnectPolicy()),
                          ("fast backoff (20 ms first retry)", ReconnectPolicy(first_delay_s=0.02))):
        times = (await stream("open", served, 1.0, 8, Faults(disconnect_at_s=drops), policy)).reconnect_ms
        print(f"  {label:38s} median {statistics.median(times):6.1f} ms  max {max(times):6.1f} ms"
              f"  (n={len(times)})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds of 200 Hz data per run")
    asyncio.run(main(parser.parse_args().seconds))
