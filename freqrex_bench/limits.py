"""Upper bounds on sizes a suite or a caller may ask for, declared once.

A value past one of these is far beyond what a machine can hold or a run can finish (a typo such as an
extra three zeros), so it is refused when the suite is validated, before anything reaches numpy or a
model. Each bound is documented in docs/suite.md.
"""

from __future__ import annotations

MAX_SAMPLE_RATE = 768_000
"""Hz: the highest sample rate of any audio format in use (DXD is 352.8 kHz)."""
MAX_DURATION_S = 600.0
"""Seconds a clip may be cropped or padded to: 10 minutes (the paper's clips are 30 s)."""
MAX_QUERIES = 10_000_000
"""Model queries: per-clip budgets and discovery's query cap."""
MAX_FRAME = 1 << 20
"""Samples: frame lengths, hops and STFT frame sizes (about 22 s at 48 kHz)."""
MAX_BATCH = 4096
"""Signals per model call."""
MAX_FREQUENCIES = 10_000_000
"""Fourier bins an attack may alter."""
MAX_CLIPS = 1_000_000
"""Clips a suite may sample."""
MAX_TRIALS = 10_000
"""Noise draws of the white-noise baseline."""
MAX_STEPS = 100_000
"""Steps of an iterative attack."""
