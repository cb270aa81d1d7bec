"""BleSensorSource over the real bleak front end and emulated peripherals: streaming, stop, reconnection,
loss and malformed packets. Uses the test-local profile (tests/test_ble_backend.py) so the transport is
checked independently of any vendor codec."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tempocoach.errors import DeviceError
from tempocoach.sensors.base import ImuBatch
from tempocoach.sensors.ble import BleSensorSource, ReconnectPolicy
from tempocoach.sensors.devices import EmulatedSource, EmulatedWorld
from tempocoach.sensors.emulator import EmulatedSensor, Faults
from test_ble_backend import CTRL, TinyProfile, ramp

FAST = ReconnectPolicy(first_delay_s=0.02, max_delay_s=0.2, max_attempts=8, max_total_s=5.0)


async def collect(source: EmulatedSource) -> ImuBatch:
    return ImuBatch.concat([b async for b in source.batches()])


def test_stream_matches_what_was_served_and_stops_cleanly() -> None:
    served = ramp(400)
    sensor = EmulatedSensor(TinyProfile(), served, 100.0, speed=None)
    source = EmulatedSource(sensor, profiles=[TinyProfile()], reconnect=FAST)
    got = asyncio.run(collect(source))
    assert len(got) == len(served)
    np.testing.assert_allclose(got.t_s, served.t_s, atol=1e-6)
    np.testing.assert_allclose(got.acc_mps2, served.acc_mps2, atol=0.005 + 1e-9)  # 0.01 m/s^2 steps
    np.testing.assert_allclose(got.gyr_radps, served.gyr_radps, atol=0.0005 + 1e-9)
    assert source.source is not None
    stats = source.source.stats
    assert stats.packets == 400 and stats.malformed == 0 and stats.lost_samples == 0
    assert source.source.mtu == 247
    assert sensor.writes[0] == (CTRL, b"\x01") and sensor.writes[-1] == (CTRL, b"\x00")


def test_peer_disconnect_reconnects_and_keeps_every_sample_outside_the_gap() -> None:
    served = ramp(1500)
    faults = Faults(disconnect_at_s=(4.0,))
    sensor = EmulatedSensor(TinyProfile(), served, 100.0, speed=50.0, faults=faults)
    source = EmulatedSource(sensor, profiles=[TinyProfile()], reconnect=FAST)
    got = asyncio.run(collect(source))
    ble = source.source
    assert ble is not None and ble.reconnects == 1 and sensor.counts.disconnects == 1
    assert len(ble.gaps_s) == 1
    before_s, after_s = ble.gaps_s[0]
    assert 3.9 <= before_s <= 4.1 and after_s > before_s + 0.01  # the dropout shows in the timestamps
    outside = (served.t_s <= before_s) | (served.t_s >= after_s)
    np.testing.assert_allclose(got.t_s, served.t_s[outside], atol=1e-6)  # nothing lost outside the gap
    assert sensor.counts.skipped_samples == int(np.sum(~outside))
    assert [w for w in sensor.writes if w == (CTRL, b"\x01")] == [(CTRL, b"\x01")] * 2  # started twice


def test_packet_loss_is_counted() -> None:
    served = ramp(2000)
    faults = Faults(drop_fraction=0.05, seed=3)
    sensor = EmulatedSensor(TinyProfile(), served, 100.0, speed=None, faults=faults)
    source = EmulatedSource(sensor, profiles=[TinyProfile()], reconnect=FAST)
    got = asyncio.run(collect(source))
    assert source.source is not None
    dropped = sensor.counts.dropped_packets
    assert 60 <= dropped <= 140  # ~5% of 2000
    assert source.source.stats.lost_samples == dropped - int(got.t_s[-1] < served.t_s[-1])
    assert len(got) == len(served) - dropped


def test_garbled_truncated_and_oversized_packets_are_counted_and_dropped() -> None:
    served = ramp(1000)
    faults = Faults(garble_fraction=0.03, truncate_fraction=0.03, oversize_fraction=0.03, seed=5)
    sensor = EmulatedSensor(TinyProfile(), served, 100.0, speed=None, faults=faults)
    source = EmulatedSource(sensor, profiles=[TinyProfile()], reconnect=FAST)
    got = asyncio.run(collect(source))
    assert source.source is not None
    bad = sensor.counts.garbled + sensor.counts.truncated + sensor.counts.oversized
    assert bad > 30 and min(sensor.counts.garbled, sensor.counts.truncated, sensor.counts.oversized) > 0
    assert source.source.stats.malformed == bad
    assert len(got) == len(served) - bad  # the stream went on past every bad packet
    assert got.t_s[-1] == pytest.approx(served.t_s[-1])


def test_wrong_name_gives_one_clear_error() -> None:
    async def main() -> None:
        async with EmulatedWorld([EmulatedSensor(TinyProfile(), ramp(10), 100.0)]) as world:
            source = BleSensorSource("Polar H10", scanner_kwargs=world.scanner_kwargs,
                                     client_kwargs=world.client_kwargs, profiles=[TinyProfile()],
                                     scan_timeout_s=0.3)
            with pytest.raises(DeviceError, match=r"sensor 'Polar H10' not found within 0.3 s"):
                async for _ in source.batches():
                    pass
            by_name = BleSensorSource("tinyimu", scanner_kwargs=world.scanner_kwargs,
                                      client_kwargs=world.client_kwargs, profiles=[], scan_timeout_s=1.0)
            with pytest.raises(DeviceError, match=r"TinyIMU 0001 .* is not a supported sensor"):
                async for _ in by_name.batches():
                    pass

    asyncio.run(main())


def test_fixed_outage_loses_exactly_that_stretch() -> None:
    served = ramp(1000)
    faults = Faults(disconnect_at_s=(3.0,), outage_s=0.5)
    sensor = EmulatedSensor(TinyProfile(), served, 100.0, speed=50.0, faults=faults)
    source = EmulatedSource(sensor, profiles=[TinyProfile()], reconnect=FAST)
    got = asyncio.run(collect(source))
    assert source.source is not None and source.source.reconnects == 1
    (before_s, after_s), = source.source.gaps_s
    assert before_s == pytest.approx(2.99) and after_s == pytest.approx(3.5)  # samples 3.00..3.49 lost
    assert len(got) == len(served) - 50 == len(served) - sensor.counts.skipped_samples


def test_stop_during_a_failed_reconnection_ends_promptly() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        sensor = EmulatedSensor(TinyProfile(), ramp(5000), 100.0, speed=10.0)
        async with EmulatedWorld([sensor]) as world:
            slow = ReconnectPolicy(first_delay_s=30.0, max_attempts=3, max_total_s=120.0)
            source = BleSensorSource(sensor.address, scanner_kwargs=world.scanner_kwargs,
                                     client_kwargs=world.client_kwargs, profiles=[TinyProfile()],
                                     reconnect=slow)

            async def drop_then_stop() -> None:
                await sensor.force_disconnect()
                await asyncio.sleep(0.2)
                await source.stop()

            started = loop.time()
            got = 0
            async for batch in source.batches():
                got += len(batch)
                if got >= 100 and sensor.connected:
                    started = loop.time()
                    stopper = loop.create_task(drop_then_stop())
            await stopper
            assert loop.time() - started < 5.0  # not the 30 s backoff
            assert source.reconnects == 0 and not sensor.connected

    asyncio.run(main())


def test_a_link_that_goes_silent_is_restarted_then_reported() -> None:
    """A sensor that stops streaming while staying connected: restart it, and give up with one line."""
    sensor = EmulatedSensor(TinyProfile(), ramp(200), 100.0, speed=None)  # then silence
    attempts = ReconnectPolicy(first_delay_s=0.02, max_attempts=2)

    async def main() -> int:
        async with EmulatedWorld([sensor]) as world:
            source = BleSensorSource(sensor.address, scanner_kwargs=world.scanner_kwargs,
                                     client_kwargs=world.client_kwargs, profiles=[TinyProfile()],
                                     reconnect=attempts, stall_timeout_s=0.3)
            got = 0
            with pytest.raises(DeviceError, match="stays connected but sends no samples"):
                async for batch in source.batches():
                    got += len(batch)
            assert source.reconnects == 2 and source.stalls == 3
            return got

    assert asyncio.run(main()) == 200
    assert sensor.writes.count((CTRL, b"\x01")) == 3  # started, then restarted twice
