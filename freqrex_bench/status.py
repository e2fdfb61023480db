"""How a piece of work ended: one enum, so records, reports and checks never match on free text."""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """The outcome of an attack, or why causal discovery stopped early, on one clip (records store the
    value). Every attack record has exactly one status; `details["reason"]` adds the human sentence.
    A causal result's `stopped` is None when discovery ran to the end, else BUDGET or SILENCE_IS_CLASS.
    """

    SUCCESS = "success"
    """The attack reached its goal under its constraints."""
    NO_FLIP = "no_flip"
    """The search ended within its limits (frequencies, frames, draws, steps) without reaching the goal."""
    BUDGET = "budget"
    """The query budget ran out first."""
    ALREADY_TARGET = "already_target"
    """A targeted attack at the class the clip already has: nothing to do."""
    PCM16_ALONE = "pcm16_alone"
    """The unaltered clip's own 16-bit copy already reaches the goal, so a flip judged as a 16-bit wav
    proves nothing about the attack: storage alone changes the decision."""
    NOTHING_TO_ALTER = "nothing_to_alter"
    """No candidate frequencies (e.g. an empty sufficient set when silence alone gets the class)."""
    NOT_APPLICABLE = "not_applicable"
    """The strategy cannot run on this target (a gradient attack on a model without gradients)."""
    UNCONFIRMED = "unconfirmed"
    """The signal the search found did not reach the goal when checked again."""
    SILENCE_IS_CLASS = "silence_is_class"
    """Causal discovery: silence alone already gets the clip's class with at least min_confidence of its
    score, so the empty set is sufficient and discovery stops (no necessary or complete set is looked for)."""

    def __str__(self) -> str:
        return self.value
