"""MbientLab MetaWear boards (MetaMotion R / RL / C / S): accelerometer + gyro modules.

Facts (research/ble-protocols.md §4; mbientlab/MetaWear-SDK-Cpp accelerometer_bosch.cpp,
gyro_bosch.cpp, *_register.h and test/test_*_bmi160.py / _bmi270.py): service 326A9000,
command char 326A9001 (write without response), notify char 326A9006. Messages are
[module, register, data]; reading sets bit 7. The IMU chip differs by board (acc implementation
1 = BMI160, 4 = BMI270; gyro 0 = BMI160, 1 = BMI270) and so do register numbers and codes, so the
client first reads module info (03 80 / 13 80) and the decoder queues the configuration once the
answer arrives (Decoder.take_writes). Samples carry no timestamp: times come from ArrivalStamper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tempocoach.sensors.base import FloatArray, ImuBatch
from tempocoach.sensors.profiles.base import CharSpec, Decoder, Encoder, GattWrite, SensorProfile, ServiceSpec
from tempocoach.sensors.profiles.codec import DEG, G, has_uuid, make_batch, nearest, norm_uuid
from tempocoach.sensors.profiles.timing import ArrivalStamper, PairAligner

SERVICE_UUID = "326a9000-85cb-9195-d9dd-464cfbbae75a"
COMMAND_UUID = "326a9001-85cb-9195-d9dd-464cfbbae75a"
NOTIFY_UUID = "326a9006-85cb-9195-d9dd-464cfbbae75a"

ACC, GYRO = 0x03, 0x13
READ = 0x80
POWER, ENABLE, CONFIG = 0x01, 0x02, 0x03
ACC_BMI160, ACC_BMI270 = 1, 4  # accelerometer implementation ids
GYRO_BMI160, GYRO_BMI270 = 0, 1
RATES_HZ = (25.0, 50.0, 100.0, 200.0)
ODR_CODE = {25.0: 6, 50.0: 7, 100.0: 8, 200.0: 9}  # Bosch ODR numbering shared by acc and gyro
ACC_RANGE_G = 8
GYRO_RANGE_DPS = 2000
ACC_LSB_PER_G = {2: 16384.0, 4: 8192.0, 8: 4096.0, 16: 2048.0}
GYRO_LSB_PER_DPS = {2000: 16.4, 1000: 32.8, 500: 65.6, 250: 131.2, 125: 262.4}
ACC_RANGE_CODE = {"bmi160": {2: 0x03, 4: 0x05, 8: 0x08, 16: 0x0C}, "bmi270": {2: 0, 4: 1, 8: 2, 16: 3}}
GYRO_RANGE_CODE = {2000: 0, 1000: 1, 500: 2, 250: 3, 125: 4}
PACKED_ABOVE_HZ = 100.0  # packed registers (3 samples per notification) stream faster than 100 Hz


@dataclass(frozen=True)
class Chip:
    """Register map of one IMU chip as the MetaWear firmware exposes it."""

    name: str
    acc_data: int
    acc_packed: int
    gyro_data: int
    gyro_packed: int
    acc_conf_base: int  # BMI160 0x20 (bwp normal); BMI270 0xA0 (filter_perf set)


BMI160 = Chip("bmi160", acc_data=0x04, acc_packed=0x1C, gyro_data=0x05, gyro_packed=0x07, acc_conf_base=0x20)
BMI270 = Chip("bmi270", acc_data=0x04, acc_packed=0x05, gyro_data=0x04, gyro_packed=0x05, acc_conf_base=0xA0)
CHIPS = {"bmi160": BMI160, "bmi270": BMI270}


def chip_from_acc_info(implementation: int) -> Chip | None:
    return {ACC_BMI160: BMI160, ACC_BMI270: BMI270}.get(implementation)


def acc_start_writes(chip: Chip, rate_hz: float, packed: bool, range_g: int = ACC_RANGE_G) -> list[bytes]:
    """Config -> subscribe -> enable -> start, the order of the SDK examples."""
    conf = chip.acc_conf_base | ODR_CODE[rate_hz]
    data_register = chip.acc_packed if packed else chip.acc_data
    return [
        bytes([ACC, CONFIG, conf, ACC_RANGE_CODE[chip.name][range_g]]),
        bytes([ACC, data_register, 1]),
        bytes([ACC, ENABLE, 1, 0]),
        bytes([ACC, POWER, 1]),
    ]


def gyro_start_writes(
    chip: Chip, rate_hz: float, packed: bool, range_dps: int = GYRO_RANGE_DPS
) -> list[bytes]:
    # BMI270 gyro config bytes assumed to share the BMI160 layout (SDK: "same layout"; unverified).
    data_register = chip.gyro_packed if packed else chip.gyro_data
    return [
        bytes([GYRO, CONFIG, 0x20 | ODR_CODE[rate_hz], GYRO_RANGE_CODE[range_dps]]),
        bytes([GYRO, data_register, 1]),
        bytes([GYRO, ENABLE, 1, 0]),
        bytes([GYRO, POWER, 1]),
    ]


class MetaWearDecoder(Decoder):
    def __init__(
        self,
        rate_hz: float,
        learned: dict[str, Chip],
        acc_range_g: int = ACC_RANGE_G,
        gyro_range_dps: int = GYRO_RANGE_DPS,
        hold_s: float = 0.1,
    ) -> None:
        super().__init__(rate_hz)
        self.acc_range_g, self.gyro_range_dps = acc_range_g, gyro_range_dps
        self._learned = learned  # shared with the profile, whose stop_writes() needs the chip
        self._packed = rate_hz > PACKED_ABOVE_HZ
        self._acc_clock = ArrivalStamper(rate_hz, hold_s=hold_s)
        self._gyro_clock = ArrivalStamper(rate_hz, hold_s=hold_s)
        self._aligner = PairAligner(1.0 / rate_hz)
        self._meta = {"profile": "metawear", "clock": "arrival"}

    def decode(self, char_uuid: str, data: bytes, arrival_s: float) -> ImuBatch | None:
        if norm_uuid(char_uuid) != NOTIFY_UUID:
            return None
        data = bytes(data)
        if len(data) < 2:
            self.stats.malformed += 1
            return None
        module, register, body = data[0], data[1], data[2:]
        if register == READ:
            self._module_info(module, body)
            return None
        chip = self._learned.get("chip")
        if chip is None or module not in (ACC, GYRO):
            return None  # nothing configured yet, or another module's message
        raw = self._samples(module, register, chip, body)
        if raw is None:
            return None
        clock = self._acc_clock if module == ACC else self._gyro_clock
        self.stats.packets += 1
        self.stats.samples += raw.shape[0]
        stamped = clock.stamp(raw, arrival_s)
        if stamped is None:
            return None  # the first ~0.1 s is held to learn the link's delay
        t_s, raw = stamped
        if module == ACC:
            self._aligner.push_acc(t_s, raw * (G / ACC_LSB_PER_G[self.acc_range_g]))
        else:
            self._aligner.push_gyr(t_s, raw * (DEG / GYRO_LSB_PER_DPS[self.gyro_range_dps]))
        t, acc, gyr = self._aligner.pop()
        self.stats.lost_samples = self._acc_clock.lost_samples + self._aligner.dropped_samples
        if self._aligner.gyro_absent:
            self._meta["gyro"] = "absent"
        return make_batch(t, acc, gyr, self._meta)

    def _samples(self, module: int, register: int, chip: Chip, body: bytes) -> FloatArray | None:
        single = chip.acc_data if module == ACC else chip.gyro_data
        packed = chip.acc_packed if module == ACC else chip.gyro_packed
        if register not in (single, packed):
            return None  # not sample data (e.g. another register's answer)
        if len(body) != (6 if register == single else 18):
            self.stats.malformed += 1
            return None
        return np.frombuffer(body, dtype="<i2").reshape(-1, 3).astype(np.float64)

    def _module_info(self, module: int, body: bytes) -> None:
        """03 80 <impl> <rev> / 13 80 <impl> <rev>; an empty body means the module is absent."""
        if module == ACC:
            chip = chip_from_acc_info(body[0]) if body else None
            if chip is None:
                self.stats.note(f"MetaWear accelerometer {body.hex() or 'absent'} is not supported")
                return
            self._learned["chip"] = chip
            for command in acc_start_writes(chip, self.rate_hz, self._packed, self.acc_range_g):
                self.queue_write(GattWrite(COMMAND_UUID, command, response=False))
        elif module == GYRO:
            if not body:
                self._aligner.gyro_absent = True
                self._meta["gyro"] = "absent"
                return
            chip = BMI160 if body[0] == GYRO_BMI160 else BMI270
            self._learned["gyro"] = chip
            for command in gyro_start_writes(chip, self.rate_hz, self._packed, self.gyro_range_dps):
                self.queue_write(GattWrite(COMMAND_UUID, command, response=False))


class MetaWearEncoder(Encoder):
    """The board side: module info, obeys config/subscribe/start, streams data registers."""

    def __init__(self, rate_hz: float, chip: Chip = BMI160) -> None:
        super().__init__(rate_hz)
        self.chip = chip
        self.subscribed: set[tuple[int, int]] = set()
        self.powered: set[int] = set()
        self.acc_range_g, self.gyro_range_dps = 2 if chip is BMI160 else 8, 2000  # power-on defaults
        self._pending: dict[int, list[np.ndarray]] = {ACC: [], GYRO: []}

    @property
    def streaming(self) -> bool:
        return bool(self.powered)

    def handle_write(self, char_uuid: str, data: bytes) -> list[tuple[str, bytes]]:
        if norm_uuid(char_uuid) != COMMAND_UUID or len(data) < 2:
            return []
        module, register, body = data[0], data[1], bytes(data[2:])
        if register == READ:
            impl = {
                ACC: ACC_BMI160 if self.chip is BMI160 else ACC_BMI270,
                GYRO: GYRO_BMI160 if self.chip is BMI160 else GYRO_BMI270,
            }.get(module)
            info = b"" if impl is None else bytes([impl, 1 if self.chip is BMI160 else 0])
            return [(NOTIFY_UUID, bytes([module, READ]) + info)]
        if register == CONFIG and len(body) == 2:
            self._configure(module, body[1])
        elif register == POWER and body:
            (self.powered.add if body[0] else self.powered.discard)(module)
        elif register not in (ENABLE, CONFIG, POWER) and body:
            key = (module, register)
            (self.subscribed.add if body[0] else self.subscribed.discard)(key)
        return []

    def _configure(self, module: int, range_code: int) -> None:
        if module == ACC:
            by_code = {code: g for g, code in ACC_RANGE_CODE[self.chip.name].items()}
            self.acc_range_g = by_code.get(range_code, self.acc_range_g)
        elif module == GYRO:
            by_code = {code: dps for dps, code in GYRO_RANGE_CODE.items()}
            self.gyro_range_dps = by_code.get(range_code, self.gyro_range_dps)

    def encode(self, batch: ImuBatch) -> list[tuple[str, bytes]]:
        out: list[tuple[str, bytes]] = []
        acc = np.clip(np.rint(batch.acc_mps2 / G * ACC_LSB_PER_G[self.acc_range_g]), -32768, 32767)
        gyr = np.clip(np.rint(batch.gyr_radps / DEG * GYRO_LSB_PER_DPS[self.gyro_range_dps]), -32768, 32767)
        streams = ((ACC, acc, self.chip.acc_data, self.chip.acc_packed),
                   (GYRO, gyr, self.chip.gyro_data, self.chip.gyro_packed))  # fmt: skip
        for i in range(len(batch)):
            for module, values, single, packed in streams:
                if module not in self.powered:
                    continue
                row = values[i].astype("<i2").tobytes()
                if (module, single) in self.subscribed:
                    out.append((NOTIFY_UUID, bytes([module, single]) + row))
                elif (module, packed) in self.subscribed:
                    self._pending[module].append(values[i])
                    if len(self._pending[module]) == 3:
                        body = np.array(self._pending[module]).astype("<i2").tobytes()
                        out.append((NOTIFY_UUID, bytes([module, packed]) + body))
                        self._pending[module] = []
        return out


class MetaWearProfile(SensorProfile):
    family: ClassVar[str] = "metawear"
    display_name: ClassVar[str] = "MbientLab MetaWear / MetaMotion"
    default_rate_hz: ClassVar[float] = 100.0
    advertised_name: ClassVar[str] = "MetaWear"

    def __init__(self, chip: str = "bmi160") -> None:
        self.emulated_chip = CHIPS[chip]
        self._learned: dict[str, Chip] = {}

    @classmethod
    def recognises(cls, name: str | None, service_uuids: list[str]) -> bool:
        return has_uuid(service_uuids, SERVICE_UUID)  # boards can be renamed: trust the service

    def services(self) -> list[ServiceSpec]:
        chars = (
            CharSpec(COMMAND_UUID, ("write", "write-without-response")),
            CharSpec(NOTIFY_UUID, ("notify",)),
        )
        return [ServiceSpec(SERVICE_UUID, chars)]

    def advertised_service_uuids(self) -> list[str]:
        return [SERVICE_UUID]

    def notify_uuids(self) -> list[str]:
        return [NOTIFY_UUID]

    def nearest_rate_hz(self, rate_hz: float) -> float:
        return nearest(RATES_HZ, rate_hz)

    def start_writes(self, rate_hz: float) -> list[GattWrite]:
        # Only ask which chip this is; the decoder sends the chip's configuration (take_writes).
        return [GattWrite(COMMAND_UUID, bytes([m, READ]), response=False) for m in (ACC, GYRO)]

    def stop_writes(self) -> list[GattWrite]:
        chip = self._learned.get("chip", BMI160)
        gyro_chip = self._learned.get("gyro")
        commands = [bytes([ACC, POWER, 0]), bytes([ACC, ENABLE, 0, 1])]
        commands += [bytes([ACC, chip.acc_data, 0]), bytes([ACC, chip.acc_packed, 0])]
        if gyro_chip is not None:
            commands += [bytes([GYRO, POWER, 0]), bytes([GYRO, ENABLE, 0, 1])]
            commands += [bytes([GYRO, gyro_chip.gyro_data, 0]), bytes([GYRO, gyro_chip.gyro_packed, 0])]
        return [GattWrite(COMMAND_UUID, c, response=False) for c in commands]

    def decoder(self, rate_hz: float) -> Decoder:
        return MetaWearDecoder(self.nearest_rate_hz(rate_hz), self._learned)

    def encoder(self, rate_hz: float) -> Encoder:
        return MetaWearEncoder(self.nearest_rate_hz(rate_hz), self.emulated_chip)
