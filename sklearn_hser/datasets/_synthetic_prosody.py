"""Data tables of the synthetic corpus: the prosody of each class, the vowels.

Used by :mod:`sklearn_hser.datasets.synthetic`; kept apart so that the
generator's code reads without scrolling through its tables.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .._labels import ANGRY, HAPPY, NEUTRAL, SAD


@dataclass(frozen=True)
class _Prosody:
    """Prosodic settings of one class at full intensity.

    f0_shift : mean pitch offset from the speaker's base pitch, semitones.
    f0_range : spread of the per-syllable pitch accents, semitones.
    rate : syllables per second.
    level_db : RMS level of the voiced part, dBFS.
    tilt : harmonic amplitude decay exponent (a_k = k ** -tilt); lower is
        brighter, i.e. more high-frequency energy (pressed, tense voice).
    breath : aspiration noise relative to the harmonic source.
    attack : syllable attack time, seconds (short = sharp onsets).
    pause_prob : probability of a phrase pause after a syllable.
    pause_len : mean phrase-pause length, seconds.
    burst : level of consonant-like noise bursts at syllable onsets.
    """

    f0_shift: float
    f0_range: float
    rate: float
    level_db: float
    tilt: float
    breath: float
    attack: float
    pause_prob: float
    pause_len: float
    burst: float


# Loosely after the SER literature (e.g. Scherer 2003; Banse & Scherer 1996):
# anger = loud, raised pitch, fast, tense/bright voice, abrupt onsets;
# happiness = high and widely varying pitch, fairly fast, medium-high energy;
# sadness = low and narrow pitch, slow, quiet, breathy, long pauses;
# neutral = medium everything with a flat-ish contour.
_PROSODY = {
    label: _Prosody(*values)
    for label, values in {
        # f0_shift, f0_range, rate, level_db, tilt, breath, attack,
        # pause_prob, pause_len, burst (the fields of _Prosody, in order)
        NEUTRAL: (0.0, 2.5, 4.2, -25.0, 1.45, 0.10, 0.025, 0.15, 0.14, 0.25),
        HAPPY: (3.5, 7.0, 4.8, -21.0, 1.25, 0.08, 0.015, 0.12, 0.12, 0.30),
        SAD: (-2.5, 1.2, 3.2, -31.0, 2.10, 0.25, 0.045, 0.35, 0.28, 0.15),
        ANGRY: (3.0, 4.5, 5.2, -16.0, 0.80, 0.05, 0.006, 0.10, 0.12, 0.45),
    }.items()
}

# Formants (F1, F2, F3) of a few vowels for an adult male voice, Hz.
_VOWELS = np.array(
    [
        [730.0, 1090.0, 2440.0],  # a (father)
        [530.0, 1840.0, 2480.0],  # e (bed)
        [270.0, 2290.0, 3010.0],  # i (beet)
        [570.0, 840.0, 2410.0],  # o (bought)
        [300.0, 870.0, 2240.0],  # u (boot)
        [640.0, 1190.0, 2390.0],  # ^ (but)
        [660.0, 1720.0, 2410.0],  # ae (bat)
        [390.0, 1990.0, 2550.0],  # I (bit)
    ]
)
_BANDWIDTHS = np.array([80.0, 100.0, 140.0, 220.0])


def _blend(label: str, intensity: float) -> _Prosody:
    """Interpolate between neutral (0) and the class's settings (1)."""
    neutral, target = _PROSODY[NEUTRAL], _PROSODY[label]
    return _Prosody(
        **{
            f.name: getattr(neutral, f.name)
            + intensity * (getattr(target, f.name) - getattr(neutral, f.name))
            for f in fields(_Prosody)
        }
    )
