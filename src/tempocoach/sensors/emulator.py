"""Simulated samples served as real BLE peripherals: each vendor profile as a GATT server on bumble.

An EmulatedSensor builds the services its profile declares, advertises the vendor's name and service
UUIDs, feeds client writes to the profile's Encoder and notifies or indicates what it answers, and
streams encoded samples while the client has the stream started, paced by the sample timestamps.
sensors/devices.py puts a bumble central and any number of them on one in-process LocalLink
(EmulatedWorld); bleak reaches them through sensors/bumble_backend.py, so the same client code runs
as against a real radio.

Faults (dropped, garbled, truncated, oversized notifications; forced disconnects) exist for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from bumble import data_types
from bumble.att import ATT_Error, ErrorCode
from bumble.controller import Controller
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from tempocoach.sensors.base import ImuBatch
from tempocoach.sensors.profiles.base import CharSpec, Encoder, SensorProfile

EMULATED_PREFIX = "emulated:"
_SETTLE_S = 0.05  # quiet time after the last configuration write before the simulated lifter starts
_SIG_UUID = re.compile(r"^0000([0-9a-f]{4})-0000-1000-8000-00805f9b34fb$")

_PROPERTY_BITS = {
    "read": Characteristic.Properties.READ,
    "write": Characteristic.Properties.WRITE,
    "write-without-response": Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
    "notify": Characteristic.Properties.NOTIFY,
    "indicate": Characteristic.Properties.INDICATE,
}


@dataclass(frozen=True)
class Faults:
    """What the emulated radio does wrong. Fractions apply per data notification.

    garbled flips every bit of the first byte (the frame type/header in every supported format);
    truncated keeps the first half; oversized appends `oversize_extra_bytes`.
    disconnect_at_s: device-clock times at which the peripheral drops the link once each.
    outage_s: a fixed gap (samples lost) per disconnect, whatever the reconnection takes in wall time,
    for deterministic tests; by default the gap is the reconnection's wall time times `speed`.
    """

    drop_fraction: float = 0.0
    garble_fraction: float = 0.0
    truncate_fraction: float = 0.0
    oversize_fraction: float = 0.0
    oversize_extra_bytes: int = 1
    disconnect_at_s: tuple[float, ...] = ()
    outage_s: float | None = None  # samples lost per disconnect; None: as long as reconnecting takes
    seed: int = 0


@dataclass
class FaultCounts:
    """What the emulator actually did, for tests to compare with the decoder's stats."""

    packets_sent: int = 0
    dropped_packets: int = 0
    dropped_samples: float = 0.0  # estimated from samples per payload of the batch
    garbled: int = 0
    truncated: int = 0
    oversized: int = 0
    disconnects: int = 0
    skipped_samples: int = 0  # samples that passed while nobody was streaming (a visible gap)


def bumble_uuid(uuid: str) -> UUID:
    """A profile's UUID string -> bumble UUID, using the 16-bit form for SIG-based ids."""
    text = uuid.lower()
    match = _SIG_UUID.match(text)
    return UUID(match.group(1).upper() if match else text)


def make_bumble_device(link: LocalLink, name: str, address: str) -> Device:
    controller = Controller(name, link=link, public_address=address)
    controller.le_acl_data_packet_length = 251  # data length extension, as on any current phone or adapter
    return Device(name=name, address=Address(address), host=Host(controller, AsyncPipeSink(controller)))


def _advertising_data(name: str, service_uuids: list[str]) -> bytes:
    """Flags, service UUIDs and the name in one advertisement.

    bumble's emulated controller answers a scan request with the advertising data again and does
    not enforce the 31-byte legacy limit, so everything goes in one payload (a real device splits it
    between advertisement and scan response; scanners see the merged result either way).
    """
    flags = data_types.Flags(
        AdvertisingData.Flags.LE_GENERAL_DISCOVERABLE_MODE | AdvertisingData.Flags.BR_EDR_NOT_SUPPORTED
    )
    uuids = [bumble_uuid(u) for u in service_uuids]
    short = [u for u in uuids if len(u.to_bytes()) == 2]
    long = [u for u in uuids if len(u.to_bytes()) == 16]
    entries: list[Any] = [flags]
    if short:
        entries.append(data_types.CompleteListOf16BitServiceUUIDs(short))
    if long:
        entries.append(data_types.CompleteListOf128BitServiceUUIDs(long))
    entries.append(data_types.CompleteLocalName(name))
    return bytes(AdvertisingData(entries))


def _as_batches(batches: ImuBatch | Iterable[ImuBatch]) -> Iterator[ImuBatch]:
    if isinstance(batches, ImuBatch):
        return iter([batches])
    return iter(batches)


class EmulatedSensor:
    """One vendor profile served as a GATT peripheral with simulated (or recorded) samples.

    speed: 1.0 = real time, 10.0 = ten times faster, 0 or None = as fast as the loop runs.
    chunk_samples: samples handed to the encoder at a time (a frame for batching formats).
    """

    def __init__(
        self,
        profile: SensorProfile,
        batches: ImuBatch | Iterable[ImuBatch],
        rate_hz: float,
        speed: float | None = 1.0,
        *,
        name: str | None = None,
        faults: Faults | None = None,
        chunk_samples: int | None = None,
    ) -> None:
        self.profile = profile
        self.rate_hz = rate_hz
        self.speed = speed if speed else None
        self.name = name or profile.advertised_name
        self.faults = faults or Faults()
        self.counts = FaultCounts()
        self.served: list[ImuBatch] = []  # every chunk sent (before faults), in order
        self.writes: list[tuple[str, bytes]] = []  # every client write, for tests
        self.finished = asyncio.Event()
        self.address = ""
        self._source = _as_batches(batches)
        self._chunk_samples = chunk_samples or max(1, round(rate_hz / 50))
        self._rng = random.Random(self.faults.seed)
        self._pending_disconnects = sorted(self.faults.disconnect_at_s)
        self._device: Device | None = None
        self._chars: dict[str, Characteristic[Any]] = {}
        self._subscribed: dict[str, str] = {}  # char uuid -> "notify" | "indicate"
        self._connection: Connection | None = None
        self._encoder: Encoder = profile.encoder(rate_hz)
        self._streaming = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._replies: set[asyncio.Task[None]] = set()
        self._t_first_s: float | None = None
        self._unsent_samples = 0
        self._now_s = 0.0
        self._wall0: float | None = None

    # -- building ------------------------------------------------------------------------------

    def attach(self, link: LocalLink, address: str) -> None:
        self.address = address
        device = make_bumble_device(link, self.name, address)
        for spec in self.profile.services():
            chars = [self._characteristic(c) for c in spec.characteristics]
            device.add_service(Service(bumble_uuid(spec.uuid), chars))
        device.on(Device.EVENT_CONNECTION, self._on_connection)
        self._device = device

    def _characteristic(self, spec: CharSpec) -> Characteristic[Any]:
        uuid = spec.uuid.lower()
        props = Characteristic.Properties(0)
        for prop in spec.properties:
            props |= _PROPERTY_BITS[prop]
        writable = bool({"write", "write-without-response"} & set(spec.properties))
        permissions = Characteristic.READABLE | (Characteristic.WRITEABLE if writable else 0)
        state = {"value": spec.initial_value}

        def on_read(connection: Connection) -> bytes:
            return state["value"]

        def on_write(connection: Connection, value: bytes) -> None:
            if not writable:  # bumble's server leaves permission checks to the attribute
                raise ATT_Error(ErrorCode.WRITE_NOT_PERMITTED, char.handle)
            state["value"] = bytes(value)
            self._on_write(uuid, bytes(value))

        char: Characteristic[Any] = Characteristic(
            bumble_uuid(uuid), props, permissions, CharacteristicValue(read=on_read, write=on_write)
        )
        char.on(Characteristic.EVENT_SUBSCRIPTION, self._subscription_handler(uuid))
        self._chars[uuid] = char
        return char

    def _subscription_handler(self, uuid: str) -> Any:
        def on_subscription(connection: Connection, notify: bool, indicate: bool) -> None:
            if notify or indicate:
                self._subscribed[uuid] = "notify" if notify else "indicate"
            else:
                self._subscribed.pop(uuid, None)
            self._update_streaming()

        return on_subscription

    # -- link events ---------------------------------------------------------------------------

    def _on_connection(self, connection: Connection) -> None:
        self._connection = connection
        self._encoder = self.profile.encoder(self.rate_hz)  # a new connection starts a new session
        self._subscribed.clear()
        connection.on(Connection.EVENT_DISCONNECTION, self._on_disconnection)

    def _on_disconnection(self, reason: int) -> None:
        self._connection = None
        self._subscribed.clear()
        self._update_streaming()

    def _on_write(self, uuid: str, data: bytes) -> None:
        self.writes.append((uuid, data))
        try:
            responses = self._encoder.handle_write(uuid, data)
        except ValueError as exc:  # the device refuses the command, as a real one answers with an ATT error
            raise ATT_Error(ErrorCode.WRITE_REQUEST_REJECTED, message=str(exc)) from exc
        if responses:  # answered after the write completes, as a device's notification would be
            task = asyncio.get_running_loop().create_task(self._send_all(responses))
            self._replies.add(task)
            task.add_done_callback(self._replies.discard)
        self._update_streaming()

    def _update_streaming(self) -> None:
        wanted = [u.lower() for u in self.profile.notify_uuids()]
        live = (
            self._connection is not None
            and self._encoder.streaming
            and all(u in self._subscribed for u in wanted)
        )
        if live:
            self._streaming.set()
        else:
            self._streaming.clear()

    async def _send_all(self, payloads: list[tuple[str, bytes]]) -> None:
        for uuid, payload in payloads:
            await self._send(uuid.lower(), payload)

    async def _send(self, uuid: str, payload: bytes) -> None:
        device, char = self._device, self._chars.get(uuid)
        if device is None or char is None or self._connection is None:
            return
        if self._subscribed.get(uuid) == "indicate":
            with contextlib.suppress(Exception):  # an indication may outlive its link
                await device.indicate_subscribers(char, payload)
        else:
            await device.notify_subscribers(char, payload)

    # -- running ---------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._device is None:
            raise RuntimeError("attach the sensor to a link (EmulatedWorld.add) before starting it")
        await self._device.power_on()
        adv = _advertising_data(self.name, self.profile.advertised_service_uuids())
        await self._device.start_advertising(
            advertising_data=adv,
            auto_restart=True,  # a real sensor advertises again once the link drops
            advertising_interval_min=20.0,
            advertising_interval_max=20.0,
        )
        self._task = asyncio.get_running_loop().create_task(self._stream())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._device is not None:
            with contextlib.suppress(Exception):
                await self._device.power_off()

    @property
    def connected(self) -> bool:
        return self._connection is not None

    @property
    def streaming(self) -> bool:
        """Connected, started by the client, and every data characteristic subscribed."""
        return self._streaming.is_set()

    def now_s(self) -> float:
        """The sensor's clock on the samples' time axis: the time of the newest sample sent.

        Read by the client as its arrival clock, it makes the emulated radio a perfect one (a packet
        arrives when its last sample was taken) whatever the speed, so decoders that rebuild time
        from arrivals see a clean stream; event-loop jitter would otherwise be magnified by `speed`.
        """
        return self._now_s

    async def force_disconnect(self) -> None:
        """Drop the link from the peripheral side, as a sensor walking out of range would."""
        connection = self._connection
        if connection is not None:
            self.counts.disconnects += 1
            with contextlib.suppress(Exception):
                await connection.disconnect()

    def _chunks(self) -> Iterator[ImuBatch]:
        for batch in self._source:
            yield from batch.chunks(self._chunk_samples)

    async def _stream(self) -> None:
        loop = asyncio.get_running_loop()
        resume_at_s: float | None = None  # end of a fixed-length outage (Faults.outage_s)
        for chunk in self._chunks():
            if not len(chunk):
                continue
            if self._t_first_s is None:
                self._t_first_s = float(chunk.t_s[0])
                await self._configured()  # the lifter starts once the client has started the stream
                self._wall0 = loop.time()
            t_last = float(chunk.t_s[-1])
            if resume_at_s is not None:
                if t_last < resume_at_s:
                    self.counts.skipped_samples += len(chunk)
                    continue
                await self._streaming.wait()  # the lifter's clock stands still until the client is back
                resume_at_s = None
                if self.speed is not None and self._t_first_s is not None:
                    self._wall0 = loop.time() - (float(chunk.t_s[0]) - self._t_first_s) / self.speed
            if self.speed is not None and self._wall0 is not None:
                due = self._wall0 + (t_last - self._t_first_s) / self.speed
                await asyncio.sleep(max(0.0, due - loop.time()))
            elif not self._streaming.is_set():
                await self._streaming.wait()
            self._now_s = t_last
            if self._pending_disconnects and t_last >= self._pending_disconnects[0]:
                self._pending_disconnects.pop(0)
                await self.force_disconnect()
                if self.faults.outage_s is not None:
                    resume_at_s = t_last + self.faults.outage_s
                    self.counts.skipped_samples += len(chunk)
                    continue
            if not self._streaming.is_set():
                self.counts.skipped_samples += len(chunk)  # time passes while nobody listens
                continue
            await self._serve(chunk)
        self.finished.set()

    async def _configured(self) -> None:
        """Wait for the stream to start and the client's configuration writes to go quiet (a device
        with several streams, like ACC then GYRO, is started by several writes)."""
        while True:
            await self._streaming.wait()
            writes = len(self.writes)
            await asyncio.sleep(_SETTLE_S)
            if self._streaming.is_set() and len(self.writes) == writes:
                return

    async def _serve(self, chunk: ImuBatch) -> None:
        payloads = self._encoder.encode(chunk)
        self.served.append(chunk)
        self._unsent_samples += len(chunk)  # encoders that fill frames hold samples back
        if not payloads:
            return
        per_payload, self._unsent_samples = self._unsent_samples / len(payloads), 0
        for uuid, payload in payloads:
            faulty = self._apply_faults(payload, per_payload)
            if faulty is not None:
                self.counts.packets_sent += 1
                await self._send(uuid.lower(), faulty)
        await asyncio.sleep(0)  # let the central take its notifications

    def _apply_faults(self, payload: bytes, samples: float) -> bytes | None:
        f, draw = self.faults, self._rng.random()
        if draw < f.drop_fraction:
            self.counts.dropped_packets += 1
            self.counts.dropped_samples += samples
            return None
        draw -= f.drop_fraction
        if draw < f.garble_fraction:
            self.counts.garbled += 1
            return bytes([payload[0] ^ 0xFF]) + payload[1:]
        draw -= f.garble_fraction
        if draw < f.truncate_fraction:
            self.counts.truncated += 1
            return payload[: max(1, len(payload) // 2)]
        draw -= f.truncate_fraction
        if draw < f.oversize_fraction:
            self.counts.oversized += 1
            return payload + bytes([0xEE]) * f.oversize_extra_bytes
        return payload
