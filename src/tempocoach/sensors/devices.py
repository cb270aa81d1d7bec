"""What a `--device` option opens: a real BLE sensor, or `emulated:<family>` (a simulated lifter served
as that vendor's BLE peripheral on an in-process bumble link, read through the same bleak client)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bumble.link import LocalLink

from tempocoach.errors import DeviceError
from tempocoach.sensors.base import ImuBatch, Source
from tempocoach.sensors.ble import BleSensorSource, ReconnectPolicy, profile_by_family, registered_profiles
from tempocoach.sensors.bumble_backend import BumbleClient, BumbleScanner
from tempocoach.sensors.emulator import EMULATED_PREFIX, EmulatedSensor, make_bumble_device
from tempocoach.sensors.profiles.base import SensorProfile

CENTRAL_ADDRESS = "C0:7E:C0:AC:00:01"


@dataclass
class EmulatedWorld:
    """A LocalLink with one bumble central and the emulated sensors around it.

    Use as `async with EmulatedWorld() as world:` after `world.add(sensor)`; pass
    `world.scanner_kwargs` to BleakScanner and `world.client_kwargs` to BleakClient.
    """

    sensors: list[EmulatedSensor] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.link = LocalLink()  # type: ignore[no-untyped-call]
        self.central = make_bumble_device(self.link, "tempocoach", CENTRAL_ADDRESS)
        pending, self.sensors = self.sensors, []
        for sensor in pending:
            self.add(sensor)

    def add(self, sensor: EmulatedSensor) -> EmulatedSensor:
        index = len(self.sensors) + 1
        sensor.attach(self.link, f"F0:5E:45:00:00:{index:02X}")
        self.sensors.append(sensor)
        return sensor

    @property
    def scanner_kwargs(self) -> Mapping[str, Any]:
        return {"backend": BumbleScanner, "bumble_device": self.central}

    @property
    def client_kwargs(self) -> Mapping[str, Any]:
        return {"backend": BumbleClient, "bumble_device": self.central}

    def resolve(self, device: str) -> EmulatedSensor:
        """`emulated:polar` (a family) or an address or advertised name -> the sensor."""
        key = device.removeprefix(EMULATED_PREFIX).lower()
        for sensor in self.sensors:
            if key in (sensor.address.lower(), sensor.name.lower()):
                return sensor
        profile = profile_by_family(key, [s.profile for s in self.sensors])  # "polar" -> polar-verity
        for sensor in self.sensors:
            if sensor.profile is profile:
                return sensor
        known = ", ".join(EMULATED_PREFIX + s.profile.family for s in self.sensors)
        raise DeviceError(f"no emulated sensor {device!r}; this world has {known}")

    async def start(self) -> None:
        await self.central.power_on()
        for sensor in self.sensors:
            await sensor.start()

    async def close(self) -> None:
        for sensor in self.sensors:
            await sensor.close()
        with contextlib.suppress(Exception):
            await self.central.power_off()

    async def __aenter__(self) -> EmulatedWorld:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def close_stream(stream: AsyncIterator[ImuBatch]) -> None:
    """Finish an async generator now (its cleanup sends stop writes) instead of at garbage collection."""
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


class EmulatedSource:
    """A Source for `--device emulated:<family>`: one emulated sensor in its own world, streamed through
    the real client (BleSensorSource over bleak over bumble). Ends when the sensor has served everything."""

    def __init__(
        self,
        sensor: EmulatedSensor,
        *,
        profiles: list[SensorProfile] | None = None,
        reconnect: ReconnectPolicy | None = None,
        settle_s: float = 0.1,
    ) -> None:
        self.sensor = sensor
        self.source: BleSensorSource | None = None
        self._profiles = profiles
        self._reconnect = reconnect
        self._settle_s = settle_s  # notifications still on the link when the sensor runs out

    @property
    def name(self) -> str:
        return f"{EMULATED_PREFIX}{self.sensor.profile.family} ({self.sensor.name})"

    async def stop(self) -> None:
        if self.source is not None:
            await self.source.stop()

    async def batches(self) -> AsyncIterator[ImuBatch]:
        async with EmulatedWorld([self.sensor]) as world:
            source = self.source = BleSensorSource(
                self.sensor.address,
                rate_hz=self.sensor.rate_hz,
                scanner_kwargs=world.scanner_kwargs,
                client_kwargs=world.client_kwargs,
                profiles=self._profiles,
                reconnect=self._reconnect,
                scan_timeout_s=2.0,
                connect_timeout_s=2.0,
                clock=self.sensor.now_s,
            )

            async def stop_when_served() -> None:
                await self.sensor.finished.wait()
                await asyncio.sleep(self._settle_s)
                await source.stop()

            watcher = asyncio.get_running_loop().create_task(stop_when_served())
            stream = source.batches()
            try:
                async for batch in stream:
                    yield batch
            finally:
                watcher.cancel()
                await close_stream(stream)  # stop writes and disconnect before the world goes away


def open_source(
    device: str,
    *,
    family: str | None = None,
    rate_hz: float | None = None,
    exercise: str = "back-squat",
    tempo: str = "31X0",
    reps: int = 6,
    placement: str = "bar",
    speed: float | None = 1.0,
    seed: int = 1,
    reconnect: ReconnectPolicy | None = None,
) -> Source:
    """The Source behind a `--device` option: a real sensor by address or name, or `emulated:<family>`
    (a simulated lifter doing `reps` of `exercise` at `tempo`, served as that vendor's BLE peripheral
    at `speed` times real time)."""
    if not device.startswith(EMULATED_PREFIX):
        return BleSensorSource(device, family=family, rate_hz=rate_hz, reconnect=reconnect)
    from tempocoach.sensors.simulator import simulate_set

    wanted = family or device.removeprefix(EMULATED_PREFIX)
    known = registered_profiles()
    profile = profile_by_family(wanted, known)
    if profile is None:
        choices = ", ".join(EMULATED_PREFIX + p.family for p in known)
        raise DeviceError(f"--device {device}: no emulated sensor family {wanted!r}; choose one of {choices}")
    rate = profile.nearest_rate_hz(rate_hz or profile.default_rate_hz)
    sim = simulate_set(
        exercise=exercise, tempo=tempo, reps=reps, placement=placement, rate_hz=rate, seed=seed
    )
    sensor = EmulatedSensor(type(profile)(), sim.batch, rate, speed=speed)
    return EmulatedSource(sensor, reconnect=reconnect)
