"""Make the five synthetic room impulse responses that the `corruptions` strategy's `reverb` applies.

Each impulse response (IR) is a direct sound (one sample of 1.0 at t = 0, so the reverberant clip is not
delayed), a few seeded early reflections, and a late tail of Gaussian noise under an exponential envelope
that falls by 60 dB over the room's RT60. The reflections and the tail (the reverberant part) are scaled
together so the direct-to-reverberant energy ratio (DRR) is the room's value. The IR ends at RT60, where
the tail is 60 dB below its start. Decay is the same at every frequency (no air absorption): a simple,
documented model rather than a measured room.

    python examples/make_impulse_responses.py                 # writes freqrex_bench/data/impulse_responses/
    python examples/make_impulse_responses.py --out /tmp/irs  # somewhere else

Deterministic: the same seeds give byte-identical files. Files are mono 16-bit PCM wav at 48 kHz
(audiomentations resamples an IR to the clip's rate when it loads it).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import soundfile

RATE = 48000
OUT = Path(__file__).resolve().parents[1] / "freqrex_bench" / "data" / "impulse_responses"
PRE_DELAY_S = 0.002  # no reverberant energy before the first reflection
REFLECTIONS = 6  # early reflections per room, between 2 ms and EARLY_S
EARLY_S = 0.04
PEAK = 0.9  # the direct sound's sample in the file (16-bit headroom)

# name, RT60 (s), DRR (dB), seed: severity 1 to 5 of the `reverb` corruption, a small close-miked room to
# a large hall heard from afar.
ROOMS = (
    ("room-1", 0.2, 10.0, 1),
    ("room-2", 0.4, 5.0, 2),
    ("room-3", 0.6, 0.0, 3),
    ("room-4", 0.9, -3.0, 4),
    ("room-5", 1.2, -6.0, 5),
)


def impulse_response(rt60: float, drr_db: float, seed: int, rate: int = RATE) -> np.ndarray:
    """One room's IR, float64 [round(rt60 * rate)]: direct sound 1.0 at sample 0, seeded early reflections
    and an exponentially decaying noise tail (-60 dB at rt60 seconds), the reverberant part scaled to a
    direct-to-reverberant energy ratio of `drr_db` dB."""
    rng = np.random.default_rng(seed)
    n = int(round(rt60 * rate))
    t = np.arange(n) / rate
    envelope = 10 ** (-3 * t / rt60)  # amplitude: 10^-3 (-60 dB) at t = rt60
    reverberant = rng.standard_normal(n) * envelope
    reverberant[: int(PRE_DELAY_S * rate)] = 0.0
    delays = np.sort(rng.uniform(PRE_DELAY_S, EARLY_S, REFLECTIONS))
    gains = rng.choice([-1.0, 1.0], REFLECTIONS) * rng.uniform(2.0, 6.0, REFLECTIONS)
    for delay, gain in zip(delays, gains):
        index = int(round(delay * rate))
        reverberant[index] += gain * envelope[index]
    reverberant *= np.sqrt(10 ** (-drr_db / 10) / np.sum(np.square(reverberant)))
    response = reverberant
    response[0] = 1.0
    return response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder to write into (default {OUT})")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, rt60, drr_db, seed in ROOMS:
        response = impulse_response(rt60, drr_db, seed)
        path = args.out / f"{name}.wav"
        soundfile.write(str(path), PEAK * response / np.max(np.abs(response)), RATE, subtype="PCM_16")
        print(f"{path}: RT60 {rt60} s, DRR {drr_db:+.0f} dB, {response.size} samples at {RATE} Hz")


if __name__ == "__main__":
    main()
