"""Scan for, connect to and stream from BLE IMU sensors with bleak; reconnect when the link drops.

Real hardware goes through bleak's default backend (BlueZ on Linux). Tests, the demo and
`--device emulated:*` pass `backend=` and `bumble_device=` through the same bleak front end
(scanner_kwargs / client_kwargs), so this code is what runs against the emulated peripherals too.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from tempocoach.errors import DeviceError
from tempocoach.sensors.base import ImuBatch, Source
from tempocoach.sensors.ble_errors import BLE_FAILURES, device_error
from tempocoach.sensors.profiles.base import Decoder, DecodeStats, GattWrite, SensorProfile

log = logging.getLogger(__name__)

_ADDRESS = re.compile(
    r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$"  # a MAC (Linux, Windows)
    r"|^[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$"  # a CoreBluetooth UUID (macOS)
)
_COMMAND_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class FoundSensor:
    """A supported sensor seen in a scan."""

    name: str
    address: str
    family: str
    rssi: int


@dataclass(frozen=True)
class ReconnectPolicy:
    """Exponential backoff after an unexpected disconnect; gives up after max_attempts or max_total_s."""

    first_delay_s: float = 0.2
    factor: float = 2.0
    max_delay_s: float = 5.0
    max_attempts: int = 10
    max_total_s: float = 60.0

    def delays_s(self) -> Iterator[float]:
        delay = self.first_delay_s
        for _ in range(self.max_attempts):
            yield delay
            delay = min(self.max_delay_s, delay * self.factor)


def registered_profiles() -> list[SensorProfile]:
    """Every supported device family, from the profile registry."""
    registry = importlib.import_module("tempocoach.sensors.profiles")
    found: Any = registry.PROFILES
    items = found.values() if isinstance(found, Mapping) else found
    return [p() if isinstance(p, type) else p for p in items]


def profile_by_family(key: str, profiles: Sequence[SensorProfile]) -> SensorProfile | None:
    """An exact family id ("polar-h10"), or a short one ("polar", "thingy", "open"): the first
    registered family it starts or names a part of."""
    key = key.strip().lower()
    for profile in profiles:
        if profile.family == key:
            return profile
    for profile in profiles:
        if profile.family.startswith(key) or key in profile.family.split("-"):
            return profile
    return None


def identify_profile(
    name: str | None, service_uuids: Sequence[str], profiles: Sequence[SensorProfile]
) -> SensorProfile | None:
    uuids = [u.lower() for u in service_uuids]
    for profile in profiles:
        if profile.recognises(name, uuids):
            return profile
    return None


async def scan(
    timeout_s: float = 5.0,
    backend_kwargs: Mapping[str, Any] | None = None,
    profiles: Sequence[SensorProfile] | None = None,
) -> list[FoundSensor]:
    """Supported sensors in range, strongest signal first."""
    known = list(profiles) if profiles is not None else registered_profiles()
    try:
        seen = await BleakScanner.discover(timeout=timeout_s, return_adv=True, **dict(backend_kwargs or {}))
    except BLE_FAILURES as exc:
        raise device_error(exc, "scan") from exc
    found = []
    for device, adv in seen.values():
        name = adv.local_name or device.name
        profile = identify_profile(name, adv.service_uuids, known)
        if profile is not None:
            found.append(FoundSensor(name or "?", device.address, profile.family, adv.rssi))
    return sorted(found, key=lambda s: -s.rssi)


class _Signal:
    def __init__(self, what: str) -> None:
        self.what = what


_STOP = _Signal("stop")


class BleSensorSource:
    """A BLE IMU as a Source: connects, configures, decodes, and reconnects after a dropout.

    address_or_name: a MAC (or a CoreBluetooth UUID) or an advertised name (exact, or a prefix).
    family: force a profile ("polar", ...) instead of recognising the device from its advertisement.
    clock: arrival-time clock handed to decoders (the emulator passes its own sample clock).
    stall_timeout_s: a link that stays up but carries no samples this long is restarted like a
    dropped one (a sensor that stopped streaming on its own); None never restarts.
    """

    def __init__(
        self,
        address_or_name: str,
        family: str | None = None,
        rate_hz: float | None = None,
        *,
        scanner_kwargs: Mapping[str, Any] | None = None,
        client_kwargs: Mapping[str, Any] | None = None,
        profiles: Sequence[SensorProfile] | None = None,
        reconnect: ReconnectPolicy | None = None,
        scan_timeout_s: float = 10.0,
        connect_timeout_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        stall_timeout_s: float | None = 5.0,
    ) -> None:
        self.target = address_or_name
        self.family = family
        self.requested_rate_hz = rate_hz
        self.reconnect = reconnect or ReconnectPolicy()
        self._scanner_kwargs = dict(scanner_kwargs or {})
        self._client_kwargs = dict(client_kwargs or {})
        self._profiles = list(profiles) if profiles is not None else None
        self._scan_timeout_s = scan_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._clock = clock
        self.stall_timeout_s = stall_timeout_s
        self.stalls = 0  # restarts in a row because the link carried nothing
        self._queue: asyncio.Queue[ImuBatch | _Signal] = asyncio.Queue()
        self._stopping = asyncio.Event()
        self._client: BleakClient | None = None
        self._device: BLEDevice | None = None
        self._family_profile: SensorProfile | None = None  # identifies the family; never connected
        self.profile: SensorProfile | None = None  # a fresh instance per connection, as the contract asks
        self.decoder: Decoder | None = None
        self._past_stats: list[DecodeStats] = []
        self._write_lock = asyncio.Lock()
        self._write_tasks: set[asyncio.Task[None]] = set()
        self.device_name: str | None = None
        self.reconnects = 0
        self.gaps_s: list[tuple[float, float]] = []  # (last sample before, first sample after) a dropout
        self.dropped_overlap = 0  # samples discarded because their time was not after the last one sent
        self.mtu = 0
        self._last_t_s: float | None = None
        self._gap_open = False

    @property
    def name(self) -> str:
        return self.device_name or self.target

    @property
    def rate_hz(self) -> float:
        """The rate the device really runs at (devices offer fixed sets of rates)."""
        profile = self._family_profile
        if profile is None:
            return self.requested_rate_hz or 0.0
        return profile.nearest_rate_hz(self.requested_rate_hz or profile.default_rate_hz)

    @property
    def stats(self) -> DecodeStats:
        """Decoder counts summed over every connection of this stream."""
        total = DecodeStats()
        current = [self.decoder.stats] if self.decoder else []
        for part in [*self._past_stats, *current]:
            total.packets += part.packets
            total.samples += part.samples
            total.malformed += part.malformed
            total.lost_samples += part.lost_samples
            total.notes.extend(part.notes)
        return total

    async def stop(self) -> None:
        """Ask the stream to end; batches() sends the stop writes and disconnects."""
        self._stopping.set()  # also ends a reconnection in progress
        self._queue.put_nowait(_STOP)

    # -- the stream ------------------------------------------------------------------------------

    async def batches(self) -> AsyncIterator[ImuBatch]:
        await self._find()
        try:
            await self._open()
            while True:
                try:
                    item = await asyncio.wait_for(self._queue.get(), self.stall_timeout_s)
                except TimeoutError:
                    await self._restart_stalled()
                    continue
                if isinstance(item, ImuBatch):
                    self.stalls = 0
                    batch = self._after_last(item)
                    if batch is not None:
                        yield batch
                elif item is _STOP:
                    return
                elif item.what == "lost" and self._client is None:  # else: a stale signal
                    await self._reconnect()
        finally:
            await self._shutdown()

    def _after_last(self, batch: ImuBatch) -> ImuBatch | None:
        """Keep time strictly increasing across packets and reconnections; note gaps."""
        if not len(batch):
            return None
        if self._last_t_s is not None:
            first = int(np.searchsorted(batch.t_s, self._last_t_s, side="right"))
            self.dropped_overlap += first
            batch = batch.slice(first, len(batch))
            if not len(batch):
                return None
            if self._gap_open:
                self.gaps_s.append((self._last_t_s, float(batch.t_s[0])))
        self._gap_open = False
        self._last_t_s = float(batch.t_s[-1])
        return batch

    async def _find(self) -> None:
        profiles = self._profiles if self._profiles is not None else registered_profiles()
        device, adv = await self._scan_for_target()
        self._device = device
        self.device_name = adv.local_name or device.name or device.address
        if self.family:
            self._family_profile = profile_by_family(self.family, profiles)
            if self._family_profile is None:
                families = ", ".join(p.family for p in profiles)
                raise DeviceError(f"unknown sensor family {self.family!r}; choose one of {families}")
        else:
            self._family_profile = identify_profile(self.device_name, adv.service_uuids, profiles)
            if self._family_profile is None:
                raise DeviceError(
                    f"{self.device_name} ({device.address}) is not a supported sensor; "
                    "pass --family if it speaks one of the supported protocols"
                )

    async def _scan_for_target(self) -> tuple[BLEDevice, AdvertisementData]:
        target = self.target
        is_address = bool(_ADDRESS.match(target))
        loop = asyncio.get_running_loop()
        found: asyncio.Future[tuple[BLEDevice, AdvertisementData]] = loop.create_future()

        def matches(device: BLEDevice, adv: AdvertisementData) -> bool:
            if is_address:
                return device.address.upper() == target.upper()
            name = adv.local_name or device.name or ""
            return name.lower() == target.lower() or name.lower().startswith(target.lower())

        def on_detect(device: BLEDevice, adv: AdvertisementData) -> None:
            if not found.done() and matches(device, adv):
                found.set_result((device, adv))

        try:
            async with BleakScanner(on_detect, **self._scanner_kwargs):
                return await asyncio.wait_for(found, self._scan_timeout_s)
        except TimeoutError as exc:
            raise DeviceError(
                f"sensor {target!r} not found within {self._scan_timeout_s:g} s; wake it (move it), "
                "make sure its phone app is closed, and check `tempocoach scan`"
            ) from exc
        except BLE_FAILURES as exc:
            raise device_error(exc, f"looking for {target}") from exc

    async def _open(self) -> None:
        """Connect, subscribe and start the stream; raise DeviceError on failure."""
        assert self._device is not None and self._family_profile is not None
        if self.decoder is not None:
            self._past_stats.append(self.decoder.stats)
        profile = self.profile = type(self._family_profile)()
        self.decoder = profile.decoder(self.rate_hz)
        client = BleakClient(
            self._device,
            disconnected_callback=self._on_disconnected,
            timeout=self._connect_timeout_s,
            **self._client_kwargs,
        )
        try:
            await client.connect()
            self._client = client
            await self._negotiate_mtu(client)
            for uuid in profile.notify_uuids():
                await client.start_notify(uuid, self._on_notification)
            await self._send(client, profile.start_writes(self.rate_hz))
        except BLE_FAILURES as exc:
            self._client = None  # first, so this disconnect is not reported as a lost link
            with contextlib.suppress(*BLE_FAILURES):
                await client.disconnect()
            raise device_error(exc, f"connecting to {self.name}") from exc

    async def _negotiate_mtu(self, client: BleakClient) -> None:
        """bleak's BlueZ backend only learns the MTU on request; others exchange it while connecting."""
        acquire = getattr(client._backend, "_acquire_mtu", None)
        if acquire is not None:
            with contextlib.suppress(Exception):
                await acquire()
        self.mtu = client.mtu_size

    async def _send(self, client: BleakClient, writes: list[GattWrite]) -> None:
        """Writes go out one at a time, in order, with the pauses the device asks for."""
        async with self._write_lock:
            for write in writes:
                sending = client.write_gatt_char(write.char_uuid, write.data, response=write.response)
                await asyncio.wait_for(sending, _COMMAND_TIMEOUT_S)
                if write.pause_after_s > 0:
                    await asyncio.sleep(write.pause_after_s)

    async def _send_later(self, client: BleakClient, writes: list[GattWrite]) -> None:
        try:
            await self._send(client, writes)
        except BLE_FAILURES as exc:  # the link went down mid-dialogue: reconnecting starts it over
            log.info("write to %s failed: %s", self.name, exc)

    def _on_notification(self, char: BleakGATTCharacteristic, data: bytearray) -> None:
        decoder, client = self.decoder, self._client
        if decoder is None:
            return
        batch = decoder.decode(char.uuid, bytes(data), self._clock())
        writes = decoder.take_writes()  # the device's answer may call for more configuration
        if writes and client is not None:
            task = asyncio.get_running_loop().create_task(self._send_later(client, writes))
            self._write_tasks.add(task)
            task.add_done_callback(self._write_tasks.discard)
        if batch is not None and len(batch):
            self._queue.put_nowait(batch)

    def _on_disconnected(self, client: BleakClient) -> None:
        if client is self._client:
            self._client = None
            self._queue.put_nowait(_Signal("lost"))

    async def _reconnect(self) -> None:
        """Back off and reconnect until the stream runs again or the policy gives up."""
        self._gap_open = True
        loop = asyncio.get_running_loop()
        started = loop.time()
        last_error: BaseException | None = None
        for attempt, delay_s in enumerate(self.reconnect.delays_s(), start=1):
            if loop.time() - started + delay_s > self.reconnect.max_total_s:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay_s)
            if self._stopping.is_set():
                return  # stop() during the outage: nothing left to reconnect for
            try:
                await self._open()
            except DeviceError as exc:
                last_error = exc
                log.info("reconnect attempt %d to %s failed: %s", attempt, self.name, exc)
                continue
            self.reconnects += 1
            log.info("reconnected to %s after %.2f s", self.name, loop.time() - started)
            return
        raise DeviceError(
            f"lost {self.name} and could not reconnect within {self.reconnect.max_attempts} attempts "
            f"({last_error}); check the battery and distance, then start again"
        )

    async def _restart_stalled(self) -> None:
        self.stalls += 1
        if self.stalls > self.reconnect.max_attempts:
            raise DeviceError(
                f"{self.name} stays connected but sends no samples (restarted {self.stalls - 1} times); "
                "switch the sensor off and on, then start again"
            )
        log.info("no samples from %s for %.1f s: restarting the stream", self.name, self.stall_timeout_s)
        client, self._client = self._client, None  # our own disconnect: not reported as lost
        if client is not None:
            with contextlib.suppress(*BLE_FAILURES):
                await asyncio.wait_for(client.disconnect(), _COMMAND_TIMEOUT_S)
        await self._reconnect()

    async def _shutdown(self) -> None:
        """Stop the stream and disconnect; best effort, the link may already be gone."""
        client, self._client = self._client, None
        if client is None or not client.is_connected or self.profile is None:
            return
        with contextlib.suppress(*BLE_FAILURES):
            await self._send(client, self.profile.stop_writes())
        for uuid in self.profile.notify_uuids():  # some devices (Thingy) stop when notifications do
            with contextlib.suppress(*BLE_FAILURES):
                await asyncio.wait_for(client.stop_notify(uuid), _COMMAND_TIMEOUT_S)
        with contextlib.suppress(*BLE_FAILURES):
            await asyncio.wait_for(client.disconnect(), _COMMAND_TIMEOUT_S)


def open_source(device: str, **options: Any) -> Source:
    """The Source behind a `--device` option (see tempocoach.sensors.devices.open_source)."""
    from tempocoach.sensors.devices import open_source as open_device

    return open_device(device, **options)
