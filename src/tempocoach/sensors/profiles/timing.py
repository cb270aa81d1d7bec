"""Sample timestamps for BLE IMU streams, shared by the profiles.

Three situations occur:

* The device sends no timestamps (WitMotion, Thingy:52, MetaWear): `ArrivalClock` rebuilds a regular
  sample clock from notification arrival times. It follows the lower envelope of the arrival times
  (the packets that waited least), so bursts after a radio stall keep their scheduled times; it fits
  the true rate slowly from a long window, so a crystal off by a few percent does not pile up; and a
  lasting step up of the envelope by about one period or more is read as lost samples.
* The device stamps each frame (Polar: last sample; Movesense, tempocoach open: first sample):
  `DeviceClock` spreads the samples, learns the true period slowly and keeps gaps visible.
* Two streams arrive separately (Polar Verity ACC/GYRO, MetaWear acc/gyro): `PairAligner` joins
  them on the accelerometer's times.

Everything returns strictly increasing seconds; nothing here raises on odd input.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from tempocoach.sensors.base import FloatArray

LOSS_STEP_FRACTION = 0.7  # a lasting rise of the arrival envelope by this many periods is a lost sample


@dataclass
class _Packet:
    k_last: int
    arrival_s: float
    n: int
    rise_s: float = 0.0  # how far this packet moved the clock line (up > 0)


class ArrivalClock:
    """Regular sample times from arrival times of packets that carry no timestamp.

    Sample k is stamped `anchor_t + (k - anchor_k) * period_s`; the line only moves by the residual
    of the least-delayed packet in a short window, and the period is refitted from per-second minima
    over `fit_window_s`. `skipped` (a device sample counter) overrides the loss inference.
    """

    def __init__(
        self,
        rate_hz: float,
        *,
        window_samples: int = 16,
        fit_block_s: float = 1.0,
        fit_window_s: float = 30.0,
        max_rate_error: float = 0.05,
        infer_loss: bool = True,
    ) -> None:
        self.nominal_period_s = 1.0 / rate_hz
        self.period_s = self.nominal_period_s
        self.lost_samples = 0
        self._window_samples = window_samples
        self._fit_block_s = fit_block_s
        self._max_rate_error = max_rate_error
        self._infer_loss = infer_loss
        self._window: deque[_Packet] = deque()
        self._k_next = 0
        self._anchor: tuple[int, float] | None = None
        self._last_t = -np.inf
        self._blocks: deque[tuple[int, float]] = deque(maxlen=max(4, int(fit_window_s / fit_block_s)))
        self._block_id: int | None = None
        self._block_best: tuple[int, float] | None = None

    def stamp(self, n: int, arrival_s: float, skipped: int | None = None) -> FloatArray:
        """Times for the next n samples that arrived together at arrival_s."""
        period = self.period_s
        if skipped is not None and skipped > 0:
            self._k_next += skipped
            self.lost_samples += skipped
        k_first = self._k_next
        k_last = k_first + n - 1
        if self._anchor is None:
            self._anchor = (k_last, arrival_s)  # first packet: assume it waited least
        packet = _Packet(k_last, arrival_s, n)
        self._window.append(packet)
        while sum(p.n for p in self._window) - self._window[0].n >= self._window_samples:
            self._window.popleft()
        anchor_k, anchor_t = self._anchor
        residuals = [p.arrival_s - (anchor_t + (p.k_last - anchor_k) * period) for p in self._window]
        shift_s = min(residuals)
        if shift_s > 0 and self._is_burst():
            shift_s = 0.0  # a flushed queue: keep the schedule instead of following the late packets
        packet.rise_s = shift_s
        if skipped is None and self._infer_loss:
            k_first, k_last = self._count_loss(k_first, k_last)
            anchor_k, anchor_t = self._anchor
        t_last = anchor_t + (k_last - anchor_k) * period + shift_s
        times = t_last - (n - 1 - np.arange(n, dtype=np.float64)) * period
        if times[0] <= self._last_t:
            times += self._last_t + 0.5 * period - times[0]
        self._anchor = (k_last, float(times[-1]))
        self._last_t = float(times[-1])
        self._k_next = k_last + 1
        self._fit_rate(k_last, arrival_s)
        return times

    def prime(self, packets: list[tuple[int, float]]) -> list[FloatArray]:
        """Stamp the first packets together, anchored on the least-delayed one of them.

        The very first packet's delay is unknown; if the link delivered the start as a burst,
        anchoring on it would stamp it late and squeeze the samples after it. Seeing a few packets
        first removes that (ArrivalStamper holds them)."""
        period, k, ends = self.period_s, self._k_next, []
        for n, arrival in packets:
            k += n
            ends.append((k - 1, arrival))
        anchor_k, anchor_a = min(ends, key=lambda e: e[1] - e[0] * period)
        out, k = [], self._k_next
        for (n, arrival), (k_last, _) in zip(packets, ends, strict=True):
            t_last = anchor_a + (k_last - anchor_k) * period
            out.append(t_last - (n - 1 - np.arange(n, dtype=np.float64)) * period)
            self._window.append(_Packet(k_last, arrival, n))
            self._fit_rate(k_last, arrival)
        while sum(p.n for p in self._window) - self._window[0].n >= self._window_samples:
            self._window.popleft()
        self._anchor = (ends[-1][0], float(out[-1][-1]))
        self._last_t = float(out[-1][-1])
        self._k_next = ends[-1][0] + 1
        return out

    def _is_burst(self) -> bool:
        """Packets in the window arrived much faster than they were sampled."""
        if len(self._window) < 3:
            return False
        arrival_span = self._window[-1].arrival_s - self._window[0].arrival_s
        sample_span = (self._window[-1].k_last - self._window[0].k_last) * self.period_s
        return arrival_span < 0.5 * sample_span

    def _count_loss(self, k_first: int, k_last: int) -> tuple[int, int]:
        """A rise of the envelope by >= ~1 period within the window means samples never arrived."""
        rise_s = sum(p.rise_s for p in self._window)
        if rise_s < LOSS_STEP_FRACTION * self.period_s:
            return k_first, k_last
        lost = int(rise_s / self.period_s + (1.0 - LOSS_STEP_FRACTION))
        self.lost_samples += lost
        for p in self._window:
            p.k_last += lost
            p.rise_s = 0.0
        assert self._anchor is not None
        self._anchor = (self._anchor[0] + lost, self._anchor[1])
        return k_first + lost, k_last + lost

    def _fit_rate(self, k_last: int, arrival_s: float) -> None:
        """Refit the period from the least-delayed packet of each block (slow: long window)."""
        block = int(arrival_s // self._fit_block_s)
        score = arrival_s - k_last * self.nominal_period_s
        if block != self._block_id:
            if self._block_best is not None:
                self._blocks.append(self._block_best)
                self._refit()
            self._block_id, self._block_best = block, (k_last, arrival_s)
        elif self._block_best is not None:
            best_k, best_a = self._block_best
            if score < best_a - best_k * self.nominal_period_s:
                self._block_best = (k_last, arrival_s)

    def _refit(self) -> None:
        if len(self._blocks) < 4:
            return
        ks = np.array([b[0] for b in self._blocks], dtype=np.float64)
        arrivals = np.array([b[1] for b in self._blocks])
        if ks[-1] - ks[0] < 2:
            return
        slope = float(np.polyfit(ks - ks[0], arrivals - arrivals[0], 1)[0])
        lo = self.nominal_period_s * (1 - self._max_rate_error)
        hi = self.nominal_period_s * (1 + self._max_rate_error)
        fitted = min(max(slope, lo), hi)
        self.period_s += 0.3 * (fitted - self.period_s)


class ArrivalStamper:
    """An ArrivalClock that holds the first few packets (about 0.1 s) to find the link's least
    delay before stamping anything; afterwards every packet is stamped as it arrives."""

    def __init__(self, rate_hz: float, *, hold_s: float = 0.1) -> None:
        self.clock = ArrivalClock(rate_hz)
        self._hold_s, self._hold_packets = hold_s, (4 if hold_s > 0 else 1)
        self._held: list[tuple[FloatArray, float]] | None = []

    @property
    def lost_samples(self) -> int:
        return self.clock.lost_samples

    def stamp(self, values: FloatArray, arrival_s: float) -> tuple[FloatArray, FloatArray] | None:
        """(times, values) of every sample released now: rows of `values` are samples."""
        if self._held is None:
            return self.clock.stamp(values.shape[0], arrival_s), values
        self._held.append((values, arrival_s))
        span_s = arrival_s - self._held[0][1]
        count = len(self._held)
        if not ((count >= self._hold_packets and span_s >= self._hold_s) or count >= 64 or span_s >= 0.5):
            return None
        held, self._held = self._held, None
        times = self.clock.prime([(v.shape[0], a) for v, a in held])
        return np.concatenate(times), np.concatenate([v for v, _ in held])


class DeviceClock:
    """Sample times from device timestamps, with the period learned slowly and gaps kept visible."""

    def __init__(self, rate_hz: float, *, smoothing: float = 0.05) -> None:
        self.period_s = 1.0 / rate_hz
        self.lost_samples = 0
        self._smoothing = smoothing
        self._prev_ref_s: float | None = None
        self._prev_n = 0
        self._last_t = -np.inf

    def reset(self) -> None:
        self._prev_ref_s = None
        self._prev_n = 0

    def stamp_last(self, t_last_s: float, n: int) -> FloatArray:
        """Polar rule: the stamp is the LAST sample's time; spread n samples since the previous stamp
        (the SDK's `PmdTimeStampUtils`), unless that gap is not n periods long: then samples were lost
        (or the stream restarted) and the frame is back-filled at the learned period instead."""
        prev = self._prev_ref_s
        self._prev_ref_s, self._prev_n = t_last_s, n
        if prev is not None:
            step_s = (t_last_s - prev) / n
            if 0.5 * self.period_s < step_s < 1.5 * self.period_s:
                self.period_s += self._smoothing * (step_s - self.period_s)
                return self._keep_increasing(prev + step_s * np.arange(1, n + 1, dtype=np.float64))
            self._count_gap(t_last_s - prev, n)
        return self._keep_increasing(t_last_s - (n - 1 - np.arange(n, dtype=np.float64)) * self.period_s)

    def stamp_first(self, t_first_s: float, n: int, period_s: float | None = None) -> FloatArray:
        """The stamp is the FIRST sample's time (Movesense, tempocoach open); period_s if the device
        states it, else learned from successive stamps."""
        prev, prev_n = self._prev_ref_s, self._prev_n
        self._prev_ref_s, self._prev_n = t_first_s, n
        if period_s is not None:
            self.period_s = period_s
        if prev is not None and prev_n > 0:
            step_s = (t_first_s - prev) / prev_n
            if 0.5 * self.period_s < step_s < 1.5 * self.period_s:
                if period_s is None:
                    self.period_s += self._smoothing * (step_s - self.period_s)
            else:
                self._count_gap(t_first_s - prev, prev_n)
        return self._keep_increasing(t_first_s + np.arange(n, dtype=np.float64) * self.period_s)

    def _count_gap(self, span_s: float, n_expected: int) -> None:
        missing = round(span_s / self.period_s) - n_expected
        if missing > 0:
            self.lost_samples += missing

    def _keep_increasing(self, times: FloatArray) -> FloatArray:
        """Repeated or overlapping samples are given times just after the last one, so output never
        goes back (the caller sees the same count it passed in)."""
        floor = self._last_t + 1e-6
        if times[0] <= floor:
            times = np.maximum(times, floor + np.arange(times.shape[0]) * 1e-6)
        self._last_t = float(times[-1])
        return times


class Unwrapper:
    """Turns a wrapping device counter (uint16 sample counter, uint32 µs clock) into a monotonic int."""

    def __init__(self, modulus: int) -> None:
        self.modulus = modulus
        self._last: int | None = None
        self._offset = 0

    def delta(self, raw: int) -> int:
        """Forward distance from the previous raw value (0 for the first)."""
        if self._last is None:
            return 0
        return (raw - self._last) % self.modulus

    def unwrap(self, raw: int) -> int:
        if self._last is not None and raw < self._last and self._last - raw > self.modulus // 2:
            self._offset += self.modulus
        self._last = raw
        return raw + self._offset


class PairAligner:
    """Joins an accelerometer and a gyro stream that arrive in separate frames at the same rate.

    Gyro is linearly interpolated onto the accelerometer's times, only between gyro samples at most
    `max_gap_periods` apart; acc samples inside a gyro gap are dropped (the gap stays visible).
    If no gyro ever arrives within `give_up_s`, the gyro is declared absent and zeros are used.
    """

    def __init__(self, period_s: float, *, max_gap_periods: float = 2.5, give_up_s: float = 3.0) -> None:
        self._max_gap_s = max_gap_periods * period_s
        self._give_up_s = give_up_s
        self.gyro_absent = False
        self.dropped_samples = 0
        self._acc_t = np.zeros(0)
        self._acc = np.zeros((0, 3))
        self._gyr_t = np.zeros(0)
        self._gyr = np.zeros((0, 3))

    def push_acc(self, t_s: FloatArray, acc: FloatArray) -> None:
        self._acc_t = np.concatenate([self._acc_t, t_s])
        self._acc = np.concatenate([self._acc, acc])

    def push_gyr(self, t_s: FloatArray, gyr: FloatArray) -> None:
        keep = t_s > (self._gyr_t[-1] if self._gyr_t.size else -np.inf)
        self._gyr_t = np.concatenate([self._gyr_t, t_s[keep]])
        self._gyr = np.concatenate([self._gyr, gyr[keep]])

    def pop(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(t, acc, gyr) for every acc sample the gyro stream already covers."""
        if self._acc_t.size == 0:
            return np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3))
        if not self._gyr_t.size and self._acc_t[-1] - self._acc_t[0] > self._give_up_s:
            self.gyro_absent = True
        if self.gyro_absent:
            t, acc = self._acc_t, self._acc
            self._acc_t, self._acc = np.zeros(0), np.zeros((0, 3))
            return t, acc, np.zeros_like(acc)
        if not self._gyr_t.size:
            return np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3))
        ready = self._acc_t <= self._gyr_t[-1]
        t, acc = self._acc_t[ready], self._acc[ready]
        self._acc_t, self._acc = self._acc_t[~ready], self._acc[~ready]
        right = np.searchsorted(self._gyr_t, t, side="left")
        left = np.clip(right - 1, 0, None)
        right = np.clip(right, 0, self._gyr_t.size - 1)
        exact = self._gyr_t[right] == t
        bracket_s = self._gyr_t[right] - self._gyr_t[left]
        usable = exact | ((t >= self._gyr_t[0]) & (bracket_s <= self._max_gap_s))
        self.dropped_samples += int((~usable).sum())
        t, acc = t[usable], acc[usable]
        gyr = np.column_stack([np.interp(t, self._gyr_t, self._gyr[:, c]) for c in range(3)])
        self._trim_gyro()
        return t, acc, gyr.reshape(-1, 3)

    def _trim_gyro(self) -> None:
        """Keep the last two gyro samples to interpolate the next acc samples against."""
        self._gyr_t, self._gyr = self._gyr_t[-2:], self._gyr[-2:]
