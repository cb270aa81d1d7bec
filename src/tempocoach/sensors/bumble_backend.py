"""A bleak backend on Google's bumble stack: the unmodified BleakScanner/BleakClient over a bumble Device.

Use it by passing the classes and the central bumble Device through bleak's keyword pass-through:

    BleakScanner(backend=BumbleScanner, bumble_device=central)
    BleakClient(address_or_device, backend=BumbleClient, bumble_device=central)

Real hardware never comes here; tests, the demo and `--device emulated:*` do, with the central on a
bumble LocalLink next to emulated sensor peripherals (sensors/emulator.py).

bumble's own objects (Device, Connection, proxies) appear only in this module; the rest of the program
sees bleak types. Errors from bumble become BleakError subclasses, as a real backend's would.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bleak.args import SizedBuffer
from bleak.assigned_numbers import gatt_char_props_to_strs
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bleak.uuids import normalize_uuid_str
from bumble import core as bumble_core
from bumble.att import ATT_Error
from bumble.core import AdvertisingData
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.gatt import Characteristic
from bumble.gatt_client import CharacteristicProxy
from bumble.hci import Address

ATT_MTU_REQUEST = 247  # what BlueZ and phones negotiate for 251-byte LE data packets
DEFAULT_ATT_MTU = 23  # the ATT default before an exchange

_T = TypeVar("_T")

_SERVICE_LIST_TYPES = (
    AdvertisingData.Type.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
)
_SERVICE_DATA_TYPES = (
    (AdvertisingData.Type.SERVICE_DATA_16_BIT_UUID, 2),
    (AdvertisingData.Type.SERVICE_DATA_32_BIT_UUID, 4),
    (AdvertisingData.Type.SERVICE_DATA_128_BIT_UUID, 16),
)


def bleak_uuid(uuid: bumble_core.UUID) -> str:
    """bumble UUID -> bleak's lowercase 128-bit string (16-bit ids expand on the SIG base)."""
    return normalize_uuid_str(uuid.to_hex_str("-"))


def address_key(address: Address) -> str:
    """The address as bleak shows it: 'AA:BB:CC:DD:EE:FF' without bumble's '/P' type suffix."""
    return address.to_string(with_type_qualifier=False)


def advertisement_data(advertisement: Advertisement) -> AdvertisementData:
    """Map one (scan-response-merged) bumble advertisement to bleak's AdvertisementData."""
    data = advertisement.data
    raw_name = data.get(AdvertisingData.Type.COMPLETE_LOCAL_NAME, raw=True) or data.get(
        AdvertisingData.Type.SHORTENED_LOCAL_NAME, raw=True
    )
    name = bytes(raw_name).decode("utf-8", errors="replace") if raw_name else None
    uuids: list[str] = []
    for kind in _SERVICE_LIST_TYPES:
        for raw in data.get_all(kind, raw=True):
            width = 2 if "16_BIT" in kind.name else 4 if "32_BIT" in kind.name else 16
            for i in range(0, len(raw) - width + 1, width):
                uuid = bleak_uuid(bumble_core.UUID.from_bytes(bytes(raw[i : i + width])))
                if uuid not in uuids:  # a merged scan response may repeat the advertisement
                    uuids.append(uuid)
    manufacturer: dict[int, bytes] = {}
    for raw in data.get_all(AdvertisingData.Type.MANUFACTURER_SPECIFIC_DATA, raw=True):
        if len(raw) >= 2:
            manufacturer[int.from_bytes(raw[:2], "little")] = bytes(raw[2:])
    service_data: dict[str, bytes] = {}
    for kind, width in _SERVICE_DATA_TYPES:
        for raw in data.get_all(kind, raw=True):
            if len(raw) >= width:
                key = bleak_uuid(bumble_core.UUID.from_bytes(bytes(raw[:width])))
                service_data[key] = bytes(raw[width:])
    tx_power: int | None = advertisement.tx_power
    if tx_power == Advertisement.TX_POWER_NOT_AVAILABLE:
        tx_power = None
    return AdvertisementData(
        local_name=name,
        manufacturer_data=manufacturer,
        service_data=service_data,
        service_uuids=uuids,
        tx_power=tx_power,
        rssi=int(advertisement.rssi),
        platform_data=(advertisement,),
    )


class BumbleScanner(BaseBleakScanner):
    """Scanning on a bumble central; every advertisement becomes a bleak detection callback."""

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        *,
        bumble_device: Device,
        **kwargs: Any,  # bluez=, cb= and other platform options are meaningless here
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._device = bumble_device
        self._active = scanning_mode != "passive"

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        adv = advertisement_data(advertisement)
        if not self.is_allowed_uuid(adv.service_uuids):
            return
        key = address_key(advertisement.address)
        device = self.create_or_update_device(key, key, adv.local_name, advertisement.address, adv)
        self.call_detection_callbacks(device, adv)

    async def start(self) -> None:
        self.seen_devices = {}
        self._device.on(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        await self._device.start_scanning(active=self._active, filter_duplicates=False)

    async def stop(self) -> None:
        self._device.remove_listener(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        if self._device.is_scanning:
            await self._device.stop_scanning()


def _gatt_error(exc: BaseException, what: str) -> BleakError:
    if isinstance(exc, ATT_Error):
        return BleakGATTProtocolError(exc.error_code)
    return BleakError(f"{what} failed: {exc!r}")


class BumbleClient(BaseBleakClient):
    """A GATT client connection from a bumble central, shaped as a bleak backend."""

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        bumble_device: Device,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        mtu: int = ATT_MTU_REQUEST,
        **kwargs: Any,  # services=, bluez=, winrt= are platform options
    ) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
        self._device = bumble_device
        details = address_or_ble_device.details if isinstance(address_or_ble_device, BLEDevice) else None
        self._target: Address | None = details if isinstance(details, Address) else None
        self._name = address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice) else None
        self._requested_mtu = mtu
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._lost: asyncio.Future[None] | None = None  # resolves when the link goes down
        self._subscribers: dict[int, Callable[[bytes], None]] = {}
        self._closing = False

    # -- connection ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name or self.address

    @property
    def mtu_size(self) -> int:
        return int(self._connection.att_mtu) if self._connection is not None else DEFAULT_ATT_MTU

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        if self._connection is not None:
            return
        target = self._target or await self._find_address(self.address)
        try:
            connection = await self._device.connect(target, timeout=self._timeout)
        except (TimeoutError, bumble_core.TimeoutError) as exc:
            raise BleakDeviceNotFoundError(self.address, f"no connection to {self.address}") from exc
        except bumble_core.BaseBumbleError as exc:
            raise BleakError(f"connect to {self.address} failed: {exc}") from exc
        self._connection = connection
        self._peer = Peer(connection)
        self._lost = asyncio.get_running_loop().create_future()
        self._closing = False
        connection.on(Connection.EVENT_DISCONNECTION, self._on_disconnection)
        try:
            await self._guard(self._peer.request_mtu(self._requested_mtu), "MTU exchange")
            self.services = await self._discover(self._peer)
            if pair:
                await self._guard(connection.pair(), "pairing")
        except BaseException:
            await self.disconnect()
            raise

    async def _find_address(self, address: str) -> Address:
        """A bare address string carries no public/random type: learn it from an advertisement."""
        found: asyncio.Future[Address] = asyncio.get_running_loop().create_future()

        def on_advertisement(advertisement: Advertisement) -> None:
            if address_key(advertisement.address).upper() == address.upper() and not found.done():
                found.set_result(advertisement.address)

        self._device.on(Device.EVENT_ADVERTISEMENT, on_advertisement)
        started = not self._device.is_scanning
        try:
            if started:
                await self._device.start_scanning(filter_duplicates=False)
            return await asyncio.wait_for(found, self._timeout)
        except TimeoutError as exc:
            raise BleakDeviceNotFoundError(address, f"device {address} was not found") from exc
        finally:
            self._device.remove_listener(Device.EVENT_ADVERTISEMENT, on_advertisement)
            if started and self._device.is_scanning:
                await self._device.stop_scanning()

    async def _discover(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        await self._guard(peer.discover_services(), "service discovery")
        for service in peer.services:
            await self._guard(service.discover_characteristics(), "characteristic discovery")
            bleak_service = BleakGATTService(service, service.handle, bleak_uuid(service.uuid))
            collection.add_service(bleak_service)
            for char in service.characteristics:
                await self._guard(peer.discover_descriptors(char), "descriptor discovery")
                props = sorted(gatt_char_props_to_strs(int(char.properties)))
                bleak_char = BleakGATTCharacteristic(
                    char, char.handle, bleak_uuid(char.uuid), props, self._max_write_size, bleak_service
                )
                collection.add_characteristic(bleak_char)
                for desc in char.descriptors:
                    collection.add_descriptor(
                        BleakGATTDescriptor(desc, desc.handle, bleak_uuid(desc.type), bleak_char)
                    )
        return collection

    def _max_write_size(self) -> int:
        return self.mtu_size - 3

    def _on_disconnection(self, reason: int) -> None:
        self._connection = None
        self._peer = None
        self._subscribers.clear()
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)
        # bleak calls the user back only when the peer (or the link) dropped, not on our own disconnect
        if not self._closing and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        connection = self._connection
        if connection is None:
            return
        self._closing = True
        lost = self._lost
        with contextlib.suppress(bumble_core.BaseBumbleError):  # already going down
            await connection.disconnect()
        if lost is not None:
            try:
                await asyncio.wait_for(asyncio.shield(lost), self._timeout)
            except TimeoutError:
                self._on_disconnection(0)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        await self._guard(self._require().connection.pair(), "pairing")

    async def unpair(self) -> None:
        raise BleakError("unpair is not supported by the bumble backend")

    # -- GATT operations -------------------------------------------------------------------------

    def _require(self) -> Peer:
        if self._peer is None:
            raise BleakError(f"not connected to {self.address}")
        return self._peer

    async def _guard(self, operation: Awaitable[_T], what: str) -> _T:
        """Run one bumble operation; a dropped link or a bumble error becomes a BleakError."""
        lost = self._lost
        task = asyncio.ensure_future(operation)
        if lost is None:
            waiters: set[asyncio.Future[Any]] = {task}
        else:
            waiters = {task, lost}
        done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if task not in done:
            task.cancel()
            raise BleakError(f"{what} failed: {self.address} disconnected")
        try:
            return task.result()
        except (TimeoutError, ATT_Error, bumble_core.BaseBumbleError) as exc:
            raise _gatt_error(exc, what) from exc

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        peer = self._require()
        return bytearray(await self._guard(peer.read_value(characteristic.obj), "read"))

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        peer = self._require()
        return bytearray(await self._guard(peer.read_value(descriptor.obj), "descriptor read"))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        peer = self._require()
        await self._guard(peer.write_value(characteristic.obj, bytes(data), with_response=response), "write")

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: SizedBuffer
    ) -> None:
        peer = self._require()
        write = peer.write_value(descriptor.obj, bytes(data), with_response=True)
        await self._guard(write, "descriptor write")

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        peer = self._require()
        proxy: CharacteristicProxy[bytes] = characteristic.obj
        if not proxy.properties & (Characteristic.Properties.NOTIFY | Characteristic.Properties.INDICATE):
            raise BleakError(f"characteristic {characteristic.uuid} does not notify or indicate")

        def deliver(value: bytes) -> None:
            callback(bytearray(value))

        self._subscribers[characteristic.handle] = deliver
        await self._guard(peer.subscribe(proxy, deliver, prefer_notify=True), "subscribe")

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        peer = self._require()
        deliver = self._subscribers.pop(characteristic.handle, None)
        await self._guard(peer.unsubscribe(characteristic.obj, deliver), "unsubscribe")
