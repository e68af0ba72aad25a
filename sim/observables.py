"""Observables that can be checked against the world, derived from model state.

The predicted vote of each state on a UN General Assembly resolution condemning Russia:

- ``absent`` when the state's neutrality doctrine is at least ``absent_neutrality`` (it avoids
  taking sides at all, as Turkmenistan does);
- ``yes`` when its alignment with the West (the mean over ``west`` powers) exceeds its alignment
  with Russia by more than ``yes_margin``;
- ``no`` when its alignment with Russia exceeds that with the West by more than ``no_margin``;
- ``abstain`` otherwise.

The thresholds are assumptions (see ``docs/ODD.md``): a state votes against Moscow only when it
leans West on balance, and votes with Moscow only when it is a near-client with little Western
tie; everything between is an abstention.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["VOTES", "VoteRule", "predicted_vote"]

VOTES: tuple[str, ...] = ("yes", "abstain", "no", "absent")
"""Possible votes, in the order used for codes."""


@dataclass(frozen=True)
class VoteRule:
    """Parameters of the vote rule (assumptions, with plausible ranges in the docstrings).

    Attributes:
        target: Power the resolution condemns.
        west: Powers whose mean alignment counts as alignment with the West.
        yes_margin: West minus target alignment above which a state votes yes (range 0-0.2).
        no_margin: Target minus West alignment above which a state votes no (range 0.6-0.8).
        absent_neutrality: Neutrality at or above which a state does not vote (range 0.3-0.6).
    """

    target: str = "russia"
    west: tuple[str, ...] = ("usa", "eu")
    yes_margin: float = 0.1
    no_margin: float = 0.7
    absent_neutrality: float = 0.4


def predicted_vote(
    alignment: np.ndarray,
    powers: Sequence[str],
    neutrality: np.ndarray,
    rule: VoteRule = VoteRule(),
) -> np.ndarray:
    """Predicted vote of each state (codes into :data:`VOTES`).

    Args:
        alignment: ``(..., S, P)`` alignment.
        powers: Power ids along the last axis.
        neutrality: ``(S,)`` neutrality of each state.
        rule: The rule's parameters.

    Returns:
        ``(..., S)`` integer codes: 0 yes, 1 abstain, 2 no, 3 absent.

    Raises:
        ValueError: If the target or western powers are not in ``powers``.
    """
    missing = [p for p in (rule.target, *rule.west) if p not in powers]
    if missing:
        raise ValueError(f"vote rule needs powers {missing}, not in this scenario")
    target = alignment[..., list(powers).index(rule.target)]
    west = alignment[..., [list(powers).index(p) for p in rule.west]].mean(axis=-1)
    margin = west - target
    codes = np.where(margin > rule.yes_margin, 0, np.where(-margin > rule.no_margin, 2, 1))
    return np.where(np.asarray(neutrality) >= rule.absent_neutrality, 3, codes)
