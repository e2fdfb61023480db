"""Mutations of Fourier bins and STFT cells (Amplitude, Phase, Delay, Compose, Ladder) for the attacks."""
