"""One clip's explanation as a page and as JSON: what `freqrex-bench explain --html/--json` writes.

The page is self-contained (figure as embedded PNG, audio as embedded 16-bit wav, no scripts) so a user
can look and listen instead of reading the printout: responsibility over Hz with the sufficient,
necessary and complete bins marked (paper Fig. 1), and players for the clip, what the model needs (the
sufficient and necessary signals) and what it hears once the necessary bins are removed.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import soundfile

from ..causal import CausalResult
from ..serialization import jsonable
from . import figures
from .html import _environment, data_uri

SIGNALS = ("original", "sufficient", "necessary", "without necessary")


def explanation_json(result: CausalResult, clip: str) -> dict[str, Any]:
    """The explanation as strict-JSON values: the record a suite writes (decision, subsets with sizes,
    shares, Hz spans and scores, costs, profile) plus the clip's name and every subset's bin indices."""
    return jsonable({"clip": clip, **result.to_dict(), "settings": result.settings,
                     "bins": {kind: subset.bins for kind, subset in result.subsets.items()}})


def _wav_uri(signal: np.ndarray, sample_rate: int) -> str:
    buffer = io.BytesIO()
    soundfile.write(buffer, np.clip(signal, -1, 1), sample_rate, subtype="PCM_16", format="WAV")
    return data_uri("audio/wav", buffer.getvalue())


def explanation_page(result: CausalResult, original: np.ndarray, clip: str, model: str) -> str:
    """The page as HTML text. `original` is the clip (float32 [T]) at the model's rate, as explained."""
    signals = {"original": original, "sufficient": result.signal_of("sufficient"),
               "necessary": result.signal_of("necessary")}
    if signals["necessary"] is not None:
        signals["without necessary"] = original - signals["necessary"]
    bins = {kind: subset.bins for kind, subset in result.subsets.items()}
    figure = data_uri("image/png", figures.responsibility(result.hz, result.responsibility, bins,
                                                          f"{clip}: {result.label_name}"))
    players = [(kind, _wav_uri(signal, result.sample_rate), signal.size / result.sample_rate)
               for kind, signal in signals.items() if signal is not None and signal.size]
    return _environment().get_template("explanation.html.j2").render(
        clip=clip, model=model, result=result, record=result.to_dict(), figure=figure, players=players)
