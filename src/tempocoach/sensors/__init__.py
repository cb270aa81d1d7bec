"""Where samples come from: BLE sensors, recordings, the simulator. All yield ImuBatch."""

from tempocoach.sensors.base import ImuBatch, Source

__all__ = ["ImuBatch", "Source"]
