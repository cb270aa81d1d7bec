"""One error family. Every message says what was wrong, where, and what to do."""


class TempoCoachError(Exception):
    """Base class for every error tempocoach raises on purpose; the CLI prints it on one line."""


class TempoCodeError(TempoCoachError):
    """A tempo code could not be parsed."""


class DataFormatError(TempoCoachError):
    """A recording or export is malformed (the message names file, line and column)."""


class CatalogError(TempoCoachError):
    """An exercise, cue or protocol definition is unknown or invalid."""


class DeviceError(TempoCoachError):
    """A sensor could not be found, connected to or configured."""


class AudioError(TempoCoachError):
    """Speech could not be rendered or sound could not be played."""
