"""The bumble bleak backend under the unmodified BleakScanner/BleakClient, against an emulated peripheral.

A small profile defined here (not a vendor format) exercises the GATT operations the vendor profiles
do not all use: reads, writes with and without response, indications, ATT errors.
"""

from __future__ import annotations

import asyncio
import struct
from typing import ClassVar

import numpy as np
import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError, BleakGATTProtocolError

from tempocoach.errors import DeviceError
from tempocoach.sensors.base import ImuBatch
from tempocoach.sensors.bumble_backend import BumbleClient
from tempocoach.sensors.devices import EmulatedWorld
from tempocoach.sensors.emulator import EmulatedSensor
from tempocoach.sensors.profiles.base import (
    CharSpec,
    Decoder,
    Encoder,
    GattWrite,
    SensorProfile,
    ServiceSpec,
)

SVC = "7e5a0001-1b2c-4d5e-8f90-a1b2c3d4e5f6"
CTRL = "7e5a0002-1b2c-4d5e-8f90-a1b2c3d4e5f6"  # write / write-without-response / read
DATA = "7e5a0003-1b2c-4d5e-8f90-a1b2c3d4e5f6"  # notify
EVENTS = "7e5a0004-1b2c-4d5e-8f90-a1b2c3d4e5f6"  # indicate
INFO = "7e5a0005-1b2c-4d5e-8f90-a1b2c3d4e5f6"  # read only
HEADER = 0xA5
SAMPLE = struct.Struct("<I6h")  # device time µs, acc mm/s^2 /10, gyr mrad/s


class TinyEncoder(Encoder):
    def __init__(self, rate_hz: float) -> None:
        super().__init__(rate_hz)
        self._on = False
        self._seq = 0

    @property
    def streaming(self) -> bool:
        return self._on

    def handle_write(self, char_uuid: str, data: bytes) -> list[tuple[str, bytes]]:
        self._on = data == b"\x01"
        return [(EVENTS, b"ack" + data)]

    def encode(self, batch: ImuBatch) -> list[tuple[str, bytes]]:
        out = []
        for i in range(len(batch)):
            acc = np.round(batch.acc_mps2[i] * 100).astype(int)
            gyr = np.round(batch.gyr_radps[i] * 1000).astype(int)
            body = SAMPLE.pack(round(batch.t_s[i] * 1e6), *acc, *gyr)
            out.append((DATA, struct.pack("<BH", HEADER, self._seq & 0xFFFF) + body))
            self._seq += 1
        return out


class TinyDecoder(Decoder):
    def __init__(self, rate_hz: float) -> None:
        super().__init__(rate_hz)
        self.events: list[bytes] = []
        self._seq: int | None = None

    def decode(self, char_uuid: str, data: bytes, arrival_s: float) -> ImuBatch | None:
        if char_uuid == EVENTS:
            self.events.append(data)
            return None
        self.stats.packets += 1
        if len(data) != 3 + SAMPLE.size or data[0] != HEADER:
            self.stats.malformed += 1
            return None
        seq = struct.unpack_from("<H", data, 1)[0]
        if self._seq is not None:
            self.stats.lost_samples += (seq - self._seq - 1) & 0xFFFF
        self._seq = seq
        t_us, *v = SAMPLE.unpack_from(data, 3)
        self.stats.samples += 1
        return ImuBatch(
            np.array([t_us / 1e6]), np.array([v[:3]]) / 100.0, np.array([v[3:]]) / 1000.0
        )


class TinyProfile(SensorProfile):
    family: ClassVar[str] = "tiny"
    display_name: ClassVar[str] = "Tiny test IMU"
    default_rate_hz: ClassVar[float] = 100.0
    advertised_name: ClassVar[str] = "TinyIMU 0001"

    @classmethod
    def recognises(cls, name: str | None, service_uuids: list[str]) -> bool:
        return SVC in service_uuids

    def services(self) -> list[ServiceSpec]:
        return [
            ServiceSpec(
                SVC,
                (
                    CharSpec(CTRL, ("read", "write", "write-without-response"), b"\x00"),
                    CharSpec(DATA, ("notify",)),
                    CharSpec(EVENTS, ("indicate",)),
                    CharSpec(INFO, ("read",), b"tiny v1"),
                ),
            )
        ]

    def advertised_service_uuids(self) -> list[str]:
        return [SVC]

    def notify_uuids(self) -> list[str]:
        return [EVENTS, DATA]

    def start_writes(self, rate_hz: float) -> list[GattWrite]:
        return [GattWrite(CTRL, b"\x01")]

    def stop_writes(self) -> list[GattWrite]:
        return [GattWrite(CTRL, b"\x00", response=False)]

    def decoder(self, rate_hz: float) -> Decoder:
        return TinyDecoder(rate_hz)

    def encoder(self, rate_hz: float) -> Encoder:
        return TinyEncoder(rate_hz)


def ramp(n: int, rate_hz: float = 100.0) -> ImuBatch:
    t = np.arange(n) / rate_hz
    acc = np.stack([np.sin(t), np.cos(t), 9.81 + 0 * t], axis=1)
    gyr = np.stack([0.1 * t, -0.2 * t, 0 * t], axis=1)
    return ImuBatch(t, acc, gyr)


def test_scan_maps_advertisements_and_filters_on_service_uuids() -> None:
    async def main() -> None:
        async with EmulatedWorld([EmulatedSensor(TinyProfile(), ramp(10), 100.0)]) as world:
            seen = await BleakScanner.discover(timeout=0.3, return_adv=True, **world.scanner_kwargs)
            (device, adv), = seen.values()
            assert adv.local_name == "TinyIMU 0001" and device.name == "TinyIMU 0001"
            assert adv.service_uuids == [SVC]
            assert device.address == world.sensors[0].address
            assert isinstance(adv.rssi, int)
            other = await BleakScanner.discover(
                timeout=0.2, service_uuids=["0000180d-0000-1000-8000-00805f9b34fb"], **world.scanner_kwargs
            )
            assert other == []
            wanted = await BleakScanner.discover(timeout=0.2, service_uuids=[SVC], **world.scanner_kwargs)
            assert [d.address for d in wanted] == [device.address]

    asyncio.run(main())


def test_client_gatt_operations_and_errors() -> None:
    async def main() -> None:
        sensor = EmulatedSensor(TinyProfile(), ramp(50), 100.0, speed=None)
        async with EmulatedWorld([sensor]) as world:
            client = BleakClient(sensor.address, timeout=2.0, **world.client_kwargs)  # a bare address string
            async with client:
                assert client.is_connected and client.mtu_size == 247
                uuids = {c.uuid for s in client.services for c in s.characteristics}
                assert {CTRL, DATA, EVENTS, INFO} <= uuids
                ctrl = client.services.get_characteristic(CTRL)
                assert ctrl is not None
                assert sorted(ctrl.properties) == [
                    "read", "write", "write-without-response"
                ]
                assert await client.read_gatt_char(INFO) == bytearray(b"tiny v1")
                events: list[bytes] = []
                data: list[bytes] = []
                await client.start_notify(EVENTS, lambda _c, d: events.append(bytes(d)))
                await client.start_notify(DATA, lambda _c, d: data.append(bytes(d)))
                await client.write_gatt_char(CTRL, b"\x01", response=True)
                await client.write_gatt_char(CTRL, b"\x02", response=False)
                for _ in range(100):
                    if len(events) == 2:
                        break
                    await asyncio.sleep(0.01)
                assert events == [b"ack\x01", b"ack\x02"]  # indications, in order
                assert await client.read_gatt_char(CTRL) == bytearray(b"\x02")
                with pytest.raises(BleakGATTProtocolError) as err:
                    await client.write_gatt_char(INFO, b"nope", response=True)
                assert err.value.code == 0x03  # write not permitted, from the peer's ATT server
                await client.stop_notify(DATA)
            assert not client.is_connected
            with pytest.raises(BleakError):
                await client.read_gatt_char(INFO)

    asyncio.run(main())


def test_peer_disconnect_calls_back_and_later_operations_fail() -> None:
    async def main() -> None:
        sensor = EmulatedSensor(TinyProfile(), ramp(50), 100.0, speed=None)
        async with EmulatedWorld([sensor]) as world:
            dropped = asyncio.Event()
            device = await BleakScanner.find_device_by_name("TinyIMU 0001", 1.0, **world.scanner_kwargs)
            assert device is not None
            client = BleakClient(device, lambda _c: dropped.set(), **world.client_kwargs)
            await client.connect()
            await sensor.force_disconnect()
            await asyncio.wait_for(dropped.wait(), 2.0)
            assert not client.is_connected
            with pytest.raises(BleakError):
                await client.write_gatt_char(CTRL, b"\x01", response=True)
            # our own disconnect does not call back
            quiet = asyncio.Event()
            again = BleakClient(device, lambda _c: quiet.set(), **world.client_kwargs)
            await again.connect()
            await again.disconnect()
            await asyncio.sleep(0.05)
            assert not quiet.is_set()

    asyncio.run(main())


def test_unknown_address_is_device_not_found() -> None:
    async def main() -> None:
        async with EmulatedWorld([]) as world:
            client = BleakClient("F0:00:00:00:00:99", timeout=0.3, backend=BumbleClient,
                                 bumble_device=world.central)
            with pytest.raises(BleakError, match="not found"):
                await client.connect()

    asyncio.run(main())


def test_advertisement_fields_map_to_bleak() -> None:
    """Name, 16- and 128-bit service UUIDs, manufacturer and service data, RSSI, TX power."""
    from bumble import data_types
    from bumble.core import UUID, AdvertisingData
    from bumble.device import Advertisement
    from bumble.hci import Address

    from tempocoach.sensors.bumble_backend import advertisement_data

    payload = AdvertisingData([
        data_types.CompleteListOf16BitServiceUUIDs([UUID("FDF3")]),
        data_types.CompleteListOf128BitServiceUUIDs([UUID(SVC)]),
        data_types.ShortenedLocalName("Tiny"),
        data_types.ManufacturerSpecificData(0x626D, b"\x01\x02"),
        data_types.ServiceData16BitUUID(UUID("180F"), b"\x5a"),
        data_types.TxPowerLevel(4),
    ])
    adv = Advertisement(address=Address("F0:00:00:00:00:07"), rssi=-61, tx_power=4, data_bytes=bytes(payload))
    mapped = advertisement_data(adv)
    assert mapped.local_name == "Tiny"
    assert mapped.service_uuids == ["0000fdf3-0000-1000-8000-00805f9b34fb", SVC]
    assert mapped.manufacturer_data == {0x626D: b"\x01\x02"}
    assert mapped.service_data == {"0000180f-0000-1000-8000-00805f9b34fb": b"\x5a"}
    assert (mapped.rssi, mapped.tx_power) == (-61, 4)


def test_world_resolves_emulated_addresses() -> None:
    async def main() -> None:  # bumble's controllers belong to a running loop
        world = EmulatedWorld([EmulatedSensor(TinyProfile(), [], 100.0)])
        sensor = world.sensors[0]
        assert world.resolve("emulated:tiny") is sensor
        assert world.resolve("emulated:TinyIMU 0001") is sensor
        assert world.resolve(sensor.address) is sensor
        with pytest.raises(DeviceError, match="this world has emulated:tiny"):
            world.resolve("emulated:polar")

    asyncio.run(main())
