"""Bluetooth failures as one-line DeviceErrors that say what to do."""

from __future__ import annotations

from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError, BleakDeviceNotFoundError, BleakError

from tempocoach.errors import DeviceError

NO_BLUETOOTH_HINT = (
    "install and start BlueZ (`sudo apt install bluez && sudo systemctl start bluetooth`), switch Bluetooth "
    "on, or try without a sensor: `tempocoach scan --emulated`, --device emulated:polar"
)


def device_error(exc: BaseException, doing: str) -> DeviceError:
    """One clear line for whatever bleak or the OS raised."""
    if isinstance(exc, DeviceError):
        return exc
    if isinstance(exc, BleakBluetoothNotAvailableError):
        return DeviceError(f"{doing}: no usable Bluetooth adapter ({exc}); {NO_BLUETOOTH_HINT}")
    if isinstance(exc, BleakDBusError):
        return DeviceError(
            f"{doing}: BlueZ is not running on the system D-Bus ({exc.dbus_error}); {NO_BLUETOOTH_HINT}"
        )
    if isinstance(exc, FileNotFoundError | ConnectionRefusedError | PermissionError):
        return DeviceError(
            f"{doing}: no Bluetooth service here (cannot reach the system D-Bus); {NO_BLUETOOTH_HINT}"
        )
    if isinstance(exc, BleakDeviceNotFoundError):
        return DeviceError(
            f"{doing}: sensor {exc.identifier} not found; wake it, close its phone app, "
            "and run `tempocoach scan`"
        )
    if isinstance(exc, TimeoutError):
        return DeviceError(f"{doing}: timed out; move the sensor closer, wake it, or close its phone app")
    return DeviceError(f"{doing}: {type(exc).__name__}: {exc}; check the sensor is on and in range")


# What bleak and the OS raise when Bluetooth is missing or a device misbehaves (without BlueZ, bleak's
# default backend raises builtin OSError/FileNotFoundError, not BleakError).
BLE_FAILURES = (BleakError, OSError, TimeoutError)
