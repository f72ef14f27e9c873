"""A small synthetic speech-emotion corpus for demos and fast tests.

Nothing here is recorded speech.  :func:`make_emotional_speech` builds, with
NumPy and SciPy only, a seeded corpus laid out like IEMOCAP (sessions of one
female and one male speaker, four classes, transcripts) whose audio is a
vowel-like source-filter signal with emotion-dependent prosody, and whose
transcripts are template sentences.  It reproduces the paper's hard case on
purpose: a share of the emotional utterances is spoken *flat* (neutral
prosody) while the words carry the emotion, so a speech-only model calls them
neutral and a text model can correct it.

:func:`synthesize_utterance` renders one such waveform and is reusable as a
generic audio source (e.g. for on-disk fixture corpora).
"""

from __future__ import annotations

import numbers
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy.signal import sosfilt
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .._labels import EMOTIONS, HAPPY, NEUTRAL
from ._synthetic_prosody import _BANDWIDTHS, _VOWELS, _blend, _Prosody
from ._synthetic_transcripts import _make_transcript

__all__ = ["make_emotional_speech", "synthesize_utterance", "STYLES"]

#: Values of the ``style`` column: ``"congruent"`` (prosody matches the label)
#: and ``"flat"`` (emotional label, neutral prosody, emotion in the words).
STYLES = ("congruent", "flat")

_SAMPLE_RATE = 16000
# What random_state (rng) may be: a seed, a Generator, a RandomState or None.
_RANDOM_STATE = [
    Interval(Integral, 0, None, closed="left"),
    np.random.Generator,
    np.random.RandomState,
    None,
]
# Output never exceeds this absolute peak (no clipping, headroom below 1.0).
_PEAK_LIMIT = 0.95


def _as_generator(random_state) -> np.random.Generator:
    """Turn ``None``, an int, a ``Generator`` or a ``RandomState`` into a Generator."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, numbers.Integral) and not isinstance(
        random_state, bool
    ):
        if random_state < 0:
            raise ValueError(f"random_state must be non-negative, got {random_state}.")
        return np.random.default_rng(int(random_state))
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    raise ValueError(
        "random_state must be None, a non-negative int, a numpy Generator or a "
        f"RandomState, got {random_state!r}."
    )


def _resonator_sos(freqs, bandwidths, sr: int) -> np.ndarray:
    """Second-order sections of a cascade of unit-DC-gain two-pole resonators."""
    freqs = np.minimum(np.asarray(freqs, dtype=float), 0.45 * sr)
    r = np.exp(-np.pi * np.asarray(bandwidths, dtype=float) / sr)
    c = -2.0 * r * np.cos(2.0 * np.pi * freqs / sr)
    sos = np.zeros((len(freqs), 6))
    sos[:, 0] = 1.0 + c + r**2  # gain 1 at DC
    sos[:, 3] = 1.0
    sos[:, 4] = c
    sos[:, 5] = r**2
    return sos


def _harmonic_source(phase: np.ndarray, f0_max: float, tilt: float, sr: int):
    """Band-limited harmonic source ``sum_k k**-tilt * sin(k * phase)``.

    Wavetable synthesis: one period is built exactly from its harmonics (as
    many as stay below 0.45 * sr at the highest pitch) and read at ``phase``.
    """
    n_harm = max(1, int(0.45 * sr / f0_max))
    size = max(2048, 64 * n_harm)
    spectrum = np.zeros(size // 2 + 1, dtype=complex)
    spectrum[1 : n_harm + 1] = -0.5j * size * np.arange(1, n_harm + 1) ** -tilt
    table = np.fft.irfft(spectrum, size)
    table = np.append(table, table[0])  # wrap-around sample for interpolation
    pos = np.mod(phase * (size / (2.0 * np.pi)), size)
    idx = np.minimum(pos.astype(np.intp), size - 1)
    frac = pos - idx
    return table[idx] + frac * (table[idx + 1] - table[idx])


def _envelope(n: int, attack: int, release: int) -> np.ndarray:
    env = np.linspace(1.0, 0.75, n)
    attack, release = min(attack, n // 2), min(release, n // 2)
    if attack > 0:
        env[:attack] *= 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, attack))
    if release > 0:
        env[n - release :] *= 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, release))
    return env


def _render(
    p: _Prosody,
    *,
    rng: np.random.Generator,
    speaker_f0: float,
    formant_scale: float,
    sr: int,
    duration: float,
    noise_level: float,
    final_rise: bool,
) -> np.ndarray:
    n = int(round(duration * sr))
    # 1. Syllable timing: nuclei separated by short gaps and phrase pauses.
    lead, trail = rng.uniform(0.04, 0.15), rng.uniform(0.04, 0.15)
    end = max(duration - trail, lead + 0.1)
    syllables = []
    t = lead
    while True:
        d = rng.uniform(0.6, 1.4) / p.rate
        if t + d > end:
            break
        syllables.append((t, d))
        t += d + rng.uniform(0.015, 0.05)
        if rng.random() < p.pause_prob:
            t += p.pause_len * rng.uniform(0.6, 1.4)
    if not syllables:
        syllables.append((lead, end - lead))

    # 2. Pitch contour in semitones: declination + per-syllable accents,
    #    linearly interpolated, plus a slow random wander (micro-prosody).
    centres = np.array([s + d / 2 for s, d in syllables])
    accents = rng.normal(0.0, p.f0_range / 2.5, len(syllables))
    accents = np.clip(accents, -p.f0_range, p.f0_range)
    declination = -rng.uniform(0.5, 2.0) * centres / duration
    knots = p.f0_shift + accents + declination
    if final_rise and len(knots) > 1:
        knots[-1] += rng.uniform(0.5, 1.0) * p.f0_range
    times = np.arange(n) / sr
    semitones = np.interp(times, centres, knots)
    wander_t = np.arange(0.0, duration + 0.05, 0.05)
    wander = np.cumsum(rng.normal(0.0, 0.15, len(wander_t)))
    semitones += np.interp(times, wander_t, wander - wander.mean())
    f0 = speaker_f0 * 2.0 ** (semitones / 12.0)
    f0 = np.clip(f0, 50.0, 0.2 * sr)
    phase = 2.0 * np.pi * np.cumsum(f0) / sr + rng.uniform(0, 2 * np.pi)

    # 3. Each syllable: harmonic source + aspiration noise, through vowel
    #    formants, under an attack/decay envelope, maybe after a consonant burst.
    y = np.zeros(n)
    active = np.zeros(n, dtype=bool)
    bandwidths = _BANDWIDTHS * (1.0 + 0.5 * p.breath)
    for start, dur in syllables:
        a, b = int(start * sr), min(int((start + dur) * sr), n)
        if b - a < 16:
            continue
        ph = phase[a:b]
        src = _harmonic_source(ph, float(f0[a:b].max()), p.tilt, sr)
        src /= np.sqrt(np.mean(src**2)) + 1e-12
        pulses = 0.6 + 0.4 * np.cos(ph)  # aspiration gated by the glottal cycle
        src += p.breath * pulses * rng.standard_normal(b - a)
        vowel = _VOWELS[rng.integers(len(_VOWELS))] * rng.uniform(0.93, 1.07, 3)
        formants = np.append(vowel, 3400.0) * formant_scale
        voiced = sosfilt(_resonator_sos(formants, bandwidths, sr), src)
        voiced /= np.sqrt(np.mean(voiced**2)) + 1e-12
        release = int(rng.uniform(0.03, 0.07) * sr * (1.0 + p.breath))
        voiced *= _envelope(b - a, int(p.attack * sr), release)
        voiced *= rng.uniform(0.7, 1.0)  # syllable stress
        y[a:b] += voiced
        active[a:b] = True
        if rng.random() < 0.6:  # consonant-like high-frequency noise burst
            m = int(rng.uniform(0.02, 0.06) * sr)
            c0 = max(a - m // 2, 0)
            c1 = min(c0 + m, n)
            burst = np.diff(rng.standard_normal(c1 - c0 + 1))
            burst *= np.hanning(c1 - c0) * p.burst
            y[c0:c1] += burst
            active[c0:c1] = True

    # 4. Level, background noise, peak limit.
    rms = np.sqrt(np.mean(y[active] ** 2)) if active.any() else 1.0
    y *= 10.0 ** (p.level_db / 20.0) / (rms + 1e-12)
    if noise_level > 0:
        y += noise_level * rng.standard_normal(n)
    peak = np.max(np.abs(y))
    if peak > _PEAK_LIMIT:
        y *= _PEAK_LIMIT / peak
    return y.astype(np.float32)


@validate_params(
    {
        "label": [StrOptions(set(EMOTIONS))],
        "rng": _RANDOM_STATE,
        "style": [StrOptions(set(STYLES))],
        "intensity": [Interval(Real, 0, 1, closed="both"), None],
        "speaker_f0": [Interval(Real, 50, None, closed="left")],
        "formant_scale": [Interval(Real, 0, None, closed="neither")],
        "rate_scale": [Interval(Real, 0, None, closed="neither")],
        "gain_db": [Interval(Real, None, None, closed="neither")],
        "sr": [Interval(Integral, 8000, None, closed="left")],
        "duration": [Interval(Real, 0.3, None, closed="left"), None],
        "noise_level": [Interval(Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def synthesize_utterance(
    label: str,
    *,
    rng=None,
    style: str = "congruent",
    intensity: float | None = None,
    speaker_f0: float = 150.0,
    formant_scale: float = 1.0,
    rate_scale: float = 1.0,
    gain_db: float = 0.0,
    sr: int = _SAMPLE_RATE,
    duration: float | None = None,
    noise_level: float = 0.002,
) -> np.ndarray:
    """Synthesise one voice-like utterance with emotion-dependent prosody.

    This is **synthetic audio**, not speech: a band-limited harmonic (glottal-
    like) source at a time-varying pitch, with a little aspiration noise,
    filtered per syllable through vowel-like formant resonances, shaped by
    syllable envelopes with short gaps and phrase pauses, preceded now and
    then by a consonant-like noise burst, over faint background noise.
    The emotion changes the pitch level and range, speaking rate, loudness,
    voice brightness (spectral tilt), breathiness, onset sharpness and
    pausing; random per-utterance variation makes the classes overlap.

    Parameters
    ----------
    label : {"neutral", "happy", "sad", "angry"}
        Emotion the prosody expresses (for ``style="congruent"``).
    rng : None, int, numpy.random.Generator or numpy.random.RandomState
        Source of randomness; an int seeds a new ``numpy.random.Generator``.
        Pass the same seed to get the same waveform.
    style : {"congruent", "flat"}, default="congruent"
        ``"flat"`` renders neutral prosody whatever the label (the emotion is
        then expected to be carried by the words only).
    intensity : float in [0, 1] or None, default=None
        How far the prosody moves from neutral towards ``label``'s (0 =
        neutral, 1 = full). ``None`` draws it uniformly from [0.3, 1].
        Ignored for neutral and for ``style="flat"`` (both use 0).
    speaker_f0 : float, default=150.0
        The speaker's neutral base pitch in Hz (roughly 90-140 for male and
        170-250 for female voices).
    formant_scale : float, default=1.0
        Vocal-tract scale of the formant frequencies (about 1.15 for a female
        voice, 1.0 for a male one).
    rate_scale : float, default=1.0
        Speaker-specific speaking-rate factor.
    gain_db : float, default=0.0
        Speaker- or channel-specific level offset, dB.
    sr : int, default=16000
        Sampling rate in Hz (at least 8000).
    duration : float or None, default=None
        Length in seconds (at least 0.3); ``None`` draws it uniformly from
        [1.0, 2.5]. Duration is drawn independently of the label.
    noise_level : float, default=0.002
        Standard deviation of the additive white background noise.

    Returns
    -------
    waveform : ndarray of shape (round(duration * sr),), dtype float32
        Finite mono waveform, absolute peak at most 0.95.

    See Also
    --------
    make_emotional_speech : a whole corpus of such utterances with transcripts.

    Examples
    --------
    >>> from sklearn_hser.datasets.synthetic import synthesize_utterance
    >>> y = synthesize_utterance("angry", rng=0, speaker_f0=210.0, duration=1.0)
    >>> y.shape, y.dtype
    ((16000,), dtype('float32'))
    >>> bool(abs(y).max() < 1.0)
    True
    """
    # Types and ranges are checked by validate_params; what is left is what
    # its constraints cannot say (finite values, the pitch against sr).
    for name, value in [
        ("speaker_f0", speaker_f0),
        ("formant_scale", formant_scale),
        ("rate_scale", rate_scale),
    ]:
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number, got {value!r}.")
    if not 50.0 <= speaker_f0 <= 0.1 * sr:
        raise ValueError(
            f"speaker_f0 must be in [50, {0.1 * sr}] Hz, got {speaker_f0}."
        )
    if not (np.isfinite(noise_level) and noise_level >= 0):
        raise ValueError(f"noise_level must be >= 0, got {noise_level!r}.")
    rng = _as_generator(rng)
    if duration is None:
        duration = float(rng.uniform(1.0, 2.5))
    if not (np.isfinite(duration) and duration >= 0.3):
        raise ValueError(f"duration must be at least 0.3 s, got {duration!r}.")

    if label == NEUTRAL or style == "flat":
        intensity = 0.0
    elif intensity is None:
        intensity = float(rng.uniform(0.3, 1.0))
    p = _blend(label, intensity)
    # Per-utterance variation so that classes overlap.
    p = _Prosody(
        f0_shift=p.f0_shift + rng.normal(0.0, 1.0),
        f0_range=p.f0_range * rng.uniform(0.7, 1.3),
        rate=p.rate * rate_scale * rng.uniform(0.85, 1.15),
        level_db=p.level_db + gain_db + rng.normal(0.0, 2.0),
        tilt=p.tilt + rng.normal(0.0, 0.12),
        breath=p.breath * rng.uniform(0.6, 1.4),
        attack=p.attack * rng.uniform(0.6, 1.4),
        pause_prob=p.pause_prob,
        pause_len=p.pause_len,
        burst=p.burst * rng.uniform(0.7, 1.3),
    )
    final_rise = label == HAPPY and style == "congruent" and rng.random() < 0.5
    return _render(
        p,
        rng=rng,
        speaker_f0=float(speaker_f0),
        formant_scale=float(formant_scale),
        sr=int(sr),
        duration=float(duration),
        noise_level=float(noise_level),
        final_rise=final_rise,
    )


# ---------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------
def _check_range(name, value, low, high=np.inf):
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (min, max), got {value!r}.") from None
    if not (low <= lo <= hi <= high):
        raise ValueError(
            f"{name} must satisfy {low} <= min <= max <= {high}, got {value!r}."
        )
    return lo, hi


@validate_params(
    {
        "n_sessions": [Interval(Integral, 1, None, closed="left")],
        "n_per_speaker": [Interval(Integral, len(EMOTIONS), None, closed="left")],
        "flat_fraction": [Interval(Real, 0, 1, closed="both")],
        "neutral_text_fraction": [Interval(Real, 0, 1, closed="both")],
        "intensity": ["array-like"],
        "duration": ["array-like"],
        "noise_level": [Interval(Real, 0, None, closed="left")],
        "random_state": _RANDOM_STATE,
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_emotional_speech(
    n_sessions: int = 5,
    n_per_speaker: int = 40,
    *,
    flat_fraction: float = 0.25,
    neutral_text_fraction: float = 0.15,
    intensity: tuple[float, float] = (0.5, 1.0),
    duration: tuple[float, float] = (1.0, 2.5),
    noise_level: float = 0.002,
    random_state=0,
    return_X_y: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.Series]:
    """Generate a small synthetic, IEMOCAP-shaped speech-emotion corpus.

    .. note:: **This corpus is synthetic.** The audio is a vowel-like
       source-filter signal, not recorded or text-to-speech speech, and the
       transcripts are filled-in templates; it is unrelated to what is being
       said. It exists so that the whole pipeline (feature extraction,
       hierarchy, metrics, report) runs in seconds offline, for the ``hser
       demo`` command and for tests. Numbers obtained on it say nothing about
       performance on real speech.

    Layout follows IEMOCAP: ``n_sessions`` sessions, each with one female and
    one male speaker (``Syn01_F``, ``Syn01_M``, ...), so the paper's
    speaker-independent split (sessions 1..n-1 train, last session's male
    validation, female test) and leave-one-session-out CV apply unchanged.
    Each speaker has ``n_per_speaker`` utterances with the four classes as
    balanced as the count allows, in random order (the id number carries no
    label information).

    Speech and text are generated so that each is informative but imperfect:

    * ``style="congruent"`` utterances have prosody matching the label, with
      a random intensity between neutral and full emotion, per-speaker voices
      (pitch, vocal-tract length, rate, level) and per-utterance jitter, so
      the classes overlap. A fraction ``neutral_text_fraction`` of the
      congruent *emotional* utterances have a neutral-sounding transcript.
    * ``style="flat"`` utterances (a fraction ``flat_fraction`` of each
      speaker's emotional utterances, spread over the three emotions) are
      the paper's hard case: emotional label, neutral prosody, and a
      transcript whose words carry the emotion clearly ("It must be really
      really hard to lose a child." -> sad).
    * Neutral utterances always have neutral prosody and neutral words.

    Durations are drawn uniformly in ``duration`` independently of the label
    and of the transcript.

    Parameters
    ----------
    n_sessions : int, default=5
        Number of sessions (two speakers each). At least 1; the IEMOCAP
        speaker-independent split needs at least 2.
    n_per_speaker : int, default=40
        Utterances per speaker (at least 4, so each class occurs).
    flat_fraction : float in [0, 1], default=0.25
        Share of each speaker's emotional (non-neutral) utterances rendered
        with flat, neutral prosody (rounded half up to a whole number per
        speaker: 8 of 30 with the defaults).
    neutral_text_fraction : float in [0, 1], default=0.15
        Probability that a congruent emotional utterance gets a neutral
        transcript (its emotion is then in the voice only).
    intensity : (float, float), default=(0.3, 1.0)
        Range of the uniformly drawn emotional intensity of congruent
        emotional utterances (0 = neutral prosody, 1 = full); lower values
        make speech-only recognition harder. Within [0, 1].
    duration : (float, float), default=(1.0, 2.5)
        Range of utterance lengths in seconds (minimum at least 0.3).
    noise_level : float, default=0.002
        Standard deviation of the additive white background noise.
    random_state : int, numpy.random.Generator, RandomState or None, default=0
        Seed for full reproducibility; ``None`` gives a different corpus on
        each call. A ``Generator`` is used (and advanced) as it is.
    return_X_y : bool, default=False
        If True, return ``(X, y)`` instead of one DataFrame.

    Returns
    -------
    corpus : pandas.DataFrame
        One row per utterance (RangeIndex), with the package's corpus columns
        (``docs/CONVENTIONS.md``):

        - ``id`` (str): ``"Syn01_F_007"``-style, unique;
        - ``audio`` (object): float32 16 kHz mono waveform (1-D ndarray);
        - ``text`` (str): the transcript;
        - ``label`` (str): ``neutral``, ``happy``, ``sad`` or ``angry``;
        - ``speaker`` (str): ``"Syn01_F"``-style, unique across the corpus;
        - ``gender`` (str): ``"F"`` or ``"M"``;
        - ``session`` (int): 1 .. ``n_sessions``;

        plus ``style`` (str): ``"congruent"`` or ``"flat"`` (see above). Note
        that ``style == "flat"`` implies an emotional label, so it must not
        be used as a feature.
    (X, y) : tuple of (pandas.DataFrame, pandas.Series)
        If ``return_X_y`` is True: ``X`` is the corpus without ``label``,
        ``y`` the ``label`` column.

    See Also
    --------
    synthesize_utterance : the audio of one utterance.

    Examples
    --------
    >>> from sklearn_hser.datasets.synthetic import make_emotional_speech
    >>> corpus = make_emotional_speech(n_sessions=2, n_per_speaker=8, random_state=0)
    >>> corpus.shape
    (32, 8)
    >>> sorted(corpus["speaker"].unique())
    ['Syn01_F', 'Syn01_M', 'Syn02_F', 'Syn02_M']
    >>> corpus.loc[0, "id"], corpus.loc[0, "gender"], int(corpus.loc[0, "session"])
    ('Syn01_F_000', 'F', 1)
    >>> corpus["label"].value_counts().sort_index().tolist()
    [8, 8, 8, 8]
    >>> corpus.loc[0, "audio"].dtype
    dtype('float32')
    >>> X, y = make_emotional_speech(n_sessions=1, n_per_speaker=4, return_X_y=True)
    >>> "label" in X.columns, y.name
    (False, 'label')
    """
    # validate_params checks types and ranges; a bool is an int to it, not here.
    for name, value in [("n_sessions", n_sessions), ("n_per_speaker", n_per_speaker)]:
        if isinstance(value, bool):
            raise ValueError(f"{name} must be an int, got {value!r}.")
    int_lo, int_hi = _check_range("intensity", intensity, 0.0, 1.0)
    dur_lo, dur_hi = _check_range("duration", duration, 0.3)
    if not np.isfinite(noise_level):
        raise ValueError(f"noise_level must be finite, got {noise_level!r}.")
    rng = _as_generator(random_state)

    width = max(3, len(str(n_per_speaker - 1)))
    ses_width = max(2, len(str(n_sessions)))
    emotional = [e for e in EMOTIONS if e != NEUTRAL]
    rows = []
    for session in range(1, n_sessions + 1):
        for gender in ("F", "M"):
            speaker = f"Syn{session:0{ses_width}d}_{gender}"
            if gender == "F":
                f0, fscale = rng.uniform(175.0, 240.0), rng.uniform(1.10, 1.22)
            else:
                f0, fscale = rng.uniform(95.0, 135.0), rng.uniform(0.95, 1.05)
            rate_scale = rng.uniform(0.88, 1.12)
            gain_db = rng.uniform(-2.0, 2.0)

            # Balanced labels in random order.
            n_full, rest = divmod(n_per_speaker, len(EMOTIONS))
            labels = list(EMOTIONS) * n_full
            labels += list(rng.choice(EMOTIONS, size=rest, replace=False))
            labels = np.asarray(labels, dtype=object)[rng.permutation(n_per_speaker)]

            # Flat utterances: spread over the emotions round-robin (a fresh
            # random class order in each round), then the first n_flat taken.
            by_class = [rng.permutation(np.flatnonzero(labels == e)) for e in emotional]
            order = []
            for i in range(max(len(idx) for idx in by_class)):
                for j in rng.permutation(len(by_class)):
                    if i < len(by_class[j]):
                        order.append(by_class[j][i])
            n_flat = int(np.floor(flat_fraction * len(order) + 0.5))
            styles = np.full(n_per_speaker, "congruent", dtype=object)
            styles[order[:n_flat]] = "flat"

            for i, (label, style) in enumerate(zip(labels, styles, strict=True)):
                utt_rng = np.random.default_rng(rng.integers(2**63))
                if label == NEUTRAL or (
                    style == "congruent" and utt_rng.random() < neutral_text_fraction
                ):
                    text = _make_transcript(NEUTRAL, utt_rng)
                else:
                    text = _make_transcript(label, utt_rng)
                audio = synthesize_utterance(
                    label,
                    rng=utt_rng,
                    style=style,
                    intensity=float(utt_rng.uniform(int_lo, int_hi)),
                    speaker_f0=f0,
                    formant_scale=fscale,
                    rate_scale=rate_scale,
                    gain_db=gain_db,
                    sr=_SAMPLE_RATE,
                    duration=float(utt_rng.uniform(dur_lo, dur_hi)),
                    noise_level=float(noise_level),
                )
                rows.append(
                    {
                        "id": f"{speaker}_{i:0{width}d}",
                        "audio": audio,
                        "text": text,
                        "label": str(label),
                        "speaker": speaker,
                        "gender": gender,
                        "session": session,
                        "style": str(style),
                    }
                )

    corpus = pd.DataFrame(
        rows,
        columns=["id", "audio", "text", "label", "speaker", "gender", "session"]
        + ["style"],
    )
    corpus["session"] = corpus["session"].astype(np.int64)
    if return_X_y:
        return corpus.drop(columns="label"), corpus["label"]
    return corpus
