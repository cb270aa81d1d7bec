"""tempocoach: a hands-free, voice-cue tempo coach for strength training with a wrist or bar IMU."""

__version__ = "0.1.0"
