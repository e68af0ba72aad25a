"""The model's equations: pure numpy, no Mesa, every array with a leading batch axis.

Shapes use ``B`` runs, ``S`` states, ``P`` powers and ``K`` dependence channels. A run of the Mesa
model is a batch of one; the ensemble engine advances many runs with the very same functions.

One month (step) does, in this order:

1. the power shocks of earlier months move along their time profiles (:func:`shock_factor`),
   then events dated this month fire (:func:`apply_event`), before anything else;
2. every power decides how far to move into the room left by weakened powers (:func:`enter`),
   then allocates its budget (:func:`allocate`) from the state at the start of the month;
3. every state updates trust, threat and dependence from what it received (and from the public
   stance it took last month), scores every power, moves its alignment part-way toward the target,
   adjusts its participation in each power's blocs and decides its public stance toward each
   power for the next month (:func:`decide`, :func:`choose_stance`), all from the state at the
   start of the month (synchronous update, so the order of agents never matters);
4. the new rows are committed (:func:`commit`).

The equations are documented on each function and in ``docs/ODD.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import numpy.typing as npt

from sim.input.errors import did_you_mean

__all__ = [
    "Allocation",
    "Answer",
    "BoolArray",
    "FloatArray",
    "IndexArray",
    "IntArray",
    "Params",
    "Returns",
    "Settled",
    "ShockProfile",
    "StateRows",
    "WorldState",
    "accept_offer",
    "allocate",
    "alternatives",
    "answer_requests",
    "apply_event",
    "bite",
    "choose_request",
    "choose_response",
    "choose_sanctions_stance",
    "choose_stance",
    "commit",
    "decide",
    "deployed",
    "enter",
    "habit_returns",
    "hedging_index",
    "honour_value",
    "learn_mix",
    "learn_weights",
    "lever_effects",
    "lever_returns",
    "move_shock",
    "nudge",
    "planned_reliability",
    "relations",
    "reliability",
    "rerouted_energy",
    "respond",
    "response_name",
    "sanctions_stance_name",
    "scale_power",
    "score_components",
    "settle",
    "shock_factor",
    "shock_level",
    "stance_name",
    "status_quo",
]

FloatArray = npt.NDArray[np.float64]
"""An array of floats: every variable and parameter of the model."""
IntArray = npt.NDArray[np.int64]
"""An array of integers: seeds, vote codes."""
IndexArray = npt.NDArray[np.intp]
"""An array of indices into another array (numpy's ``intp``, what ``argmax`` returns)."""
BoolArray = npt.NDArray[np.bool_]
"""An array of booleans: outcomes of events."""

TRADE = 0
"""Index of the trade channel in the dependence axis."""
REMITTANCES = 1
"""Index of the remittances channel."""
ENERGY = 2
"""Index of the energy and transit channel."""
SECURITY = 3
"""Index of the security channel in the dependence axis (see ``sim.input.scenario.CHANNELS``)."""
INVESTMENT = 4
"""Index of the investment channel."""
STANCES = ("distance", "neutral", "rapprochement")
"""Names of the public stances -1, 0 and +1 (see :func:`choose_stance`)."""
SANCTIONS_STANCES = ("comply", "stay out", "facilitate")
"""Names of the sanctions stances -1, 0 and +1 (see :func:`choose_sanctions_stance`)."""


@dataclass
class Params:
    """Everything that stays fixed during a run. Per-run scalars have shape ``(B,)``.

    The model parameters (the scenario's ``model:`` section) are not fields: they live in
    :attr:`model`, filled by name from the schema (:func:`sim.model.compile.model_arrays`), and
    the equations read them as attributes. A number ``model.x`` is ``params.x``, a score weight
    ``model.weights.x`` is ``params.w_x`` and the channel weights are ``params.channel_weights``.
    So a new model parameter is declared once, in the schema
    (:class:`sim.input.scenario.ModelParams`), and read by the equation that uses it; nothing
    else is edited by hand. Reading a name that is neither a field nor a model parameter raises
    ``AttributeError`` naming the closest parameters.

    The model parameters of the bundled schema (see ``docs/ODD.md``, Section 7.14):
    ``channel_weights`` (weights of channels in overall dependence, summing to 1, ``(B, K)``);
    the score weights ``w_dependence``, ``w_security``, ``w_threat``,
    ``w_bandwagon``, ``w_trust``, ``w_affinity``, ``w_membership``, ``w_rivalry``; the alignment
    update ``adjustment_speed``, ``noise``, ``peer_effect``; the monthly rates
    ``trust_gain``, ``trust_loss``, ``threat_gain``, ``threat_decay``, ``dependence_gain``,
    ``dependence_decay``, ``insecurity_decay``, ``trust_recovery``; the lever scales
    ``aid_scale``, ``security_scale``, ``rhetoric_scale`` (spending, as a share of monthly GDP,
    that reaches 63% of a lever's full effect); ``drift_scale`` (drift from the initial
    alignment that doubles a responsive power's effort); ``honour_threshold`` (capacity x
    attention x credibility needed to honour a call for help), ``honour_stakes``,
    ``request_cost`` and ``credibility_penalty`` (share of credibility lost by a power that fails
    a call for help: :func:`choose_request`, :func:`answer_requests`); ``offer_cost`` (the weight
    of rivals' anger against a package, :func:`accept_offer`); ``entry_rate`` (monthly
    speed of opportunistic entry, :func:`enter`); ``stance_threshold``, ``stance_cost``,
    ``stance_effect``, ``participation_rate``, ``participation_shift`` and ``exit_threshold``
    (the public stance, bloc participation and exit, :func:`choose_stance`, :func:`decide`);
    ``sanctions_risk`` and ``sanctions_trade`` (the sanctions stance and its trade,
    :func:`choose_sanctions_stance`, :func:`relations`); ``remittance_elasticity`` (how the
    remittances a state's migrants send from a power follow the power's economy,
    :func:`relations`). Each is ``(B,)``.

    Attributes:
        a0: Initial alignment, ``(B, S, P)`` (the status quo: see :func:`status_quo`).
        dep0: Initial dependence by channel, the level dependence relaxes to, ``(B, S, P, K)``.
        budget: Monthly budget for the region in USD million, ``(B, P)``.
        mix: Lever shares (aid, security, rhetoric), ``(B, P, 3)``.
        courting: Share of rhetoric that courts, ``(B, P)``.
        threat_intensity: Strength of threatening rhetoric, ``(B, P)``.
        responsiveness: Strength of a power's response to a drifting state (courting or
            punishing it, :func:`allocate`), ``(B, P)``.
        decides: 1 where the power chooses its response to each drifting state each month
            (:func:`choose_response`, strategy ``response: decide``), 0 where the scenario fixes
            it, ``(B, P)``.
        entry_response: Opportunism: share of the room left by weakened powers that the power
            moves into (:func:`enter`), ``(B, P)``.
        priority: Allocation weight of each state for each power, ``(B, S, P)``.
        rivalry: ``rivalry[b, q, p]``, how much power q resents alignment with p, ``(B, P, P)``.
        gdp_month: Monthly GDP in USD million, ``(B, S)``.
        exposure: Threat exposure (border, kin minority), ``(B, S, P)``.
        affinity: Identity affinity, ``(B, S, P)``.
        neutrality: Neutrality doctrine, ``(B, S)``.
        peers: Row-normalised neighbour matrix, ``(B, S, S)``.
        trust0, threat0: Initial trust and threat, the levels they relax to, ``(B, S, P)``.
        base_returns: Each power's marginal return on each lever in the initial state,
            ``(B, P, 3)`` (:func:`lever_returns`, :func:`status_quo`).
        base_state_returns: Each power's marginal return on spending more on each state in
            the initial state, ``(B, S, P)`` (:class:`Returns`, :func:`status_quo`).
        base_aid, base_security, base_courting, base_threats: Lever effects of the status quo
            (see :func:`status_quo`), ``(B, S, P)``.
        residual: Score residual making the initial alignment the initial target, ``(B, S, P)``.
        reliability0: Each power's :func:`planned_reliability` in the initial state, ``(B, P)``.
        membership0: Initial participation in each power's blocs, the level participation
            relaxes to under a neutral stance, ``(B, S, P)``.
        model: The model parameters by array name (see above).
    """

    a0: FloatArray
    dep0: FloatArray
    budget: FloatArray
    mix: FloatArray
    courting: FloatArray
    threat_intensity: FloatArray
    responsiveness: FloatArray
    decides: FloatArray
    entry_response: FloatArray
    priority: FloatArray
    rivalry: FloatArray
    gdp_month: FloatArray
    exposure: FloatArray
    affinity: FloatArray
    neutrality: FloatArray
    peers: FloatArray
    trust0: FloatArray
    threat0: FloatArray
    base_aid: FloatArray
    base_security: FloatArray
    base_courting: FloatArray
    base_threats: FloatArray
    base_returns: FloatArray
    base_state_returns: FloatArray
    residual: FloatArray
    reliability0: FloatArray
    membership0: FloatArray
    model: dict[str, FloatArray]

    def __getattr__(self, name: str) -> FloatArray:
        """A model parameter by its array name (called only when ``name`` is no field)."""
        model: dict[str, FloatArray] | None = self.__dict__.get("model")
        if model is not None and name in model:
            return model[name]
        raise AttributeError(
            f"Params has no field or model parameter {name!r}{did_you_mean(name, model or ())} "
            "(model parameters are declared in sim.input.scenario.ModelParams)"
        )


@dataclass
class WorldState:
    """Everything that changes during a run.

    Attributes:
        alignment: ``(B, S, P)`` in [0, 1].
        trust: ``(B, S, P)`` in [0, 1].
        threat: Perceived threat, ``(B, S, P)`` in [0, 1].
        dependence: ``(B, S, P, K)`` in [0, 1].
        membership: Participation in the power's blocs (drills, summits, treaties), ``(B, S, P)``
            in [0, 1]; a reversible level that follows the state's stance (:func:`decide`).
        exited: 1 where the state has left the power's blocs (for good), else 0, ``(B, S, P)``
            (:func:`decide`).
        stance: The public stance each state has taken toward each power, -1 (distance),
            0 (neutral) or +1 (rapprochement), ``(B, S, P)``; chosen by :func:`choose_stance`
            at the end of a month, it acts in the months after.
        request: The answer to each state's latest call for help, by the power it asked: +1
            honoured, -1 refused, 0 not asked (:func:`choose_request`, :func:`answer_requests`),
            ``(B, S, P)``; a new crisis replaces the state's row.
        offer: The state's answer to each power's latest package: +1 accepted, -1 refused,
            0 none offered yet (:func:`accept_offer`), ``(B, S, P)``.
        sanctions: ``sanctions[b, q, p]``, the bite of power q's sanctions on power p, in [0, 1]
            (``sanctions`` events, :func:`move_shock`), ``(B, P, P)``.
        routes: ``routes[b, s, p]``, the share of state s's energy and transit dependence on
            the other powers that routes through power p carry, in [0, 1] (``route`` events,
            :func:`move_shock`), ``(B, S, P)``.
        response: Each power's response to each state's drift, ``response[b, s, p]``: +1 courts
            it, -1 punishes it, 0 ignores it (:func:`choose_response`, or fixed by the
            scenario), ``(B, S, P)``; chosen at the end of a month, it acts in the months after.
        sanctions_stance: Each state's stance toward the sanctions on each power: -1 comply,
            0 stay out, +1 facilitate its trade (:func:`choose_sanctions_stance`), ``(B, S, P)``;
            chosen at the end of a month, it acts in the months after.
        insecurity: A state's security need after crises, ``(B, S)`` in [0, 1].
        credibility: ``(B, P)`` in [0, 1].
        capacity: Military capacity, ``(B, P)`` in [0, 1].
        attention: Share of the regional budget deployed as planned (shocks scale it),
            ``(B, P)`` in [0, 1].
        entry: Opportunistic entry, the share of the attention not yet deployed that the power
            deploys on top to fill the room left by weakened powers (:func:`enter`), ``(B, P)``
            in [0, 1].
        budget_factor: Multiplier on the monthly budget after shocks, ``(B, P)``, >= 0.
        mix: Each power's lever mix, the shares of its spending on aid, security and rhetoric,
            ``(B, P, 3)``, summing to 1; it starts at the scenario's ``lever_mix`` and moves
            with the levers' returns (:func:`learn_mix`).
        weights: Each power's allocation weight of each state, ``weights[b, s, p]``; it starts
            at the power's priorities and moves with the states' returns
            (:func:`learn_weights`), its sum over the states kept, ``(B, S, P)``.
        extra_aid: One-off aid (USD million) landing this month, ``(B, S, P)``.
        extra_security: One-off security aid (USD million) landing this month, ``(B, S, P)``.
    """

    alignment: FloatArray
    trust: FloatArray
    threat: FloatArray
    dependence: FloatArray
    membership: FloatArray
    exited: FloatArray
    stance: FloatArray
    request: FloatArray
    offer: FloatArray
    sanctions: FloatArray
    routes: FloatArray
    sanctions_stance: FloatArray
    response: FloatArray
    insecurity: FloatArray
    credibility: FloatArray
    capacity: FloatArray
    attention: FloatArray
    entry: FloatArray
    budget_factor: FloatArray
    mix: FloatArray
    weights: FloatArray
    extra_aid: FloatArray
    extra_security: FloatArray

    def copy(self) -> WorldState:
        """Deep copy of every array."""
        return WorldState(**{f.name: getattr(self, f.name).copy() for f in fields(self)})


@dataclass
class Allocation:
    """What powers send to states this month, each ``(B, S, P)``.

    Attributes:
        aid: USD million of aid.
        security: USD million of security assistance.
        rhetoric: USD million spent on rhetoric (diplomacy, media).
        threat_level: Strength of threatening rhetoric in [0, 1].
        share: Each power's share of its spending that goes to each state (its weights over
            the states, summing to 1 over them unless it spends nothing).
    """

    aid: FloatArray
    security: FloatArray
    rhetoric: FloatArray
    threat_level: FloatArray
    share: FloatArray


@dataclass
class StateRows:
    """New values for some states' rows, produced by :func:`decide`.

    Besides the new variables it carries why each stance was chosen: ``pull``, how far the
    state's target alignment has moved from its initial alignment (``a* - a0``), and ``cost``,
    the cost of taking a stance in that direction (see :func:`choose_stance`); and why each
    sanctions stance was: ``margin``, the net gain of facilitating the sanctioned power's trade
    (see :func:`choose_sanctions_stance`).
    """

    rows: slice
    alignment: FloatArray
    trust: FloatArray
    threat: FloatArray
    dependence: FloatArray
    membership: FloatArray
    exited: FloatArray
    stance: FloatArray
    pull: FloatArray
    cost: FloatArray
    sanctions_stance: FloatArray
    margin: FloatArray


@dataclass(frozen=True)
class Answer:
    """An agent's answer to a decision an event put to it, per run (:func:`apply_event`).

    Either a state's call for help and the asked power's answer, or a power's offer of a
    package and the state's answer (``offer`` True).

    Attributes:
        state: Index of the calling state (of the state offered the package).
        power: The power the state asked in each run, ``(B,)`` (-1: it asked nobody); for an
            offer, the offering power.
        yes: Whether that power answered the call, ``(B,)`` (False where nobody was asked); for
            an offer, whether the state accepted it.
        offer: Whether this is an offer (:func:`accept_offer`) rather than a call for help.
    """

    state: int
    power: IndexArray
    yes: BoolArray
    offer: bool = False


def nudge(x: FloatArray, m: FloatArray | float) -> FloatArray:
    """Move ``x`` in [0, 1] toward 1 by share ``m`` when ``m >= 0``, toward 0 when ``m < 0``.

    ``nudge(x, m) = x + m (1 - x)`` for ``m >= 0`` and ``x + m x`` otherwise; for ``m`` in
    [-1, 1] the result stays in [0, 1].
    """
    m = np.clip(m, -1.0, 1.0)
    return np.where(m >= 0, x + m * (1.0 - x), x + m * x)


def _saturate(spend: FloatArray, scale: FloatArray) -> FloatArray:
    """``1 - exp(-spend / scale)``: effect in [0, 1) of spending against a scale."""
    return -np.expm1(-np.maximum(spend, 0.0) / np.maximum(scale, 1e-12))


def _b(x: FloatArray, ndim: int) -> FloatArray:
    """Reshape a per-run ``(B,)`` array to broadcast against ``ndim`` dimensions."""
    return x.reshape(x.shape + (1,) * (ndim - 1))


def deployed(state: WorldState, powers: slice | int = slice(None)) -> FloatArray:
    """Attention actually deployed: ``alpha + e (1 - alpha)``, planned attention plus entry.

    Args:
        state: The state.
        powers: Which powers (all by default).

    Returns:
        ``(B, len(powers))`` in [0, 1] (``(B,)`` for one index).
    """
    alpha = state.attention[:, powers]
    result: FloatArray = alpha + state.entry[:, powers] * (1.0 - alpha)
    return result


def planned_reliability(state: WorldState) -> FloatArray:
    """Credibility x capacity x planned attention (entry left out), ``(B, P)``.

    :func:`enter` compares it with its value in the initial state (``Params.reliability0``,
    computed by this same function, so that nothing counts as lost at the start).
    """
    result: FloatArray = state.credibility * state.capacity * state.attention
    return result


def reliability(state: WorldState) -> FloatArray:
    """Each power's reliability as a protector: credibility x capacity x deployed, ``(B, P)``."""
    result: FloatArray = state.credibility * state.capacity * deployed(state)
    return result


def enter(state: WorldState, params: Params, powers: slice = slice(None)) -> FloatArray:
    """Powers decide how far to move into the room that weakened powers leave.

    For power ``q``, the share of its planned reliability lost since the start is
    ``loss_q = max(0, 1 - c_q kappa_q alpha_q / R0_q)`` (credibility, capacity and planned
    attention against their initial product; entry is left out, so no power's entry feeds
    another's); the room it leaves is ``room_q = loss_q * mean_s a0_sq``, its loss times the
    region's initial alignment with it. Power ``p`` sees ``O_p = min(1, sum_{q != p} room_q)``
    and moves its entry toward ``o_p O_p`` (``o_p`` its ``entry_response``) at
    ``entry_rate`` a month: ``e_p <- e_p + r_e (o_p O_p - e_p)``. When the room closes (the
    weakened power recovers) the entry recedes at the same speed. In the initial state nothing is
    lost, so without shocks nobody enters.

    Args:
        state: State at the start of the month, after its events (not modified).
        params: Fixed parameters.
        powers: Which powers decide (all by default; a Mesa power agent passes its own). Each
            reads the others' credibility, capacity and attention, never their entry, so the
            order in which powers decide does not matter.

    Returns:
        The new entry of the selected powers, ``(B, len(powers))``.
    """
    planned = planned_reliability(state)
    r0 = params.reliability0
    kept = np.divide(planned, r0, out=np.ones_like(planned), where=r0 > 0)
    room = np.maximum(1.0 - kept, 0.0) * params.a0.mean(axis=1)  # (B, P)
    opening = np.minimum(room.sum(axis=1, keepdims=True) - room, 1.0)
    e = state.entry[:, powers]
    rate = _b(params.entry_rate, 2)
    result: FloatArray = e + rate * (params.entry_response[:, powers] * opening[:, powers] - e)
    return result


def allocate(state: WorldState, params: Params, powers: slice = slice(None)) -> Allocation:
    """Powers split their monthly budget over states and levers.

    For power ``p`` and state ``s``: spending ``E_p = budget_p * budget_factor_p * deployed_p``
    (:func:`deployed`: attention with opportunistic entry);
    drift ``d_sp = max(0, a0_sp - a_sp)``; with ``r_p`` the power's responsiveness and its
    response to the state (``state.response``: courts +1, punishes -1, ignores 0), weight
    ``w_sp = u_sp * (1 + r_p [courts s] d_sp / drift_scale)`` normalised over states, where
    ``u_sp`` is the power's allocation weight of the state (``state.weights``: its priority
    at the start, then learnt, :func:`learn_weights`);
    aid, security and rhetoric spending are ``E_p * mix_p[lever] * w_sp`` with the power's
    current lever mix (``state.mix``, :func:`learn_mix`). Threatening rhetoric is
    ``min(1, threat_intensity_p * (1 + r_p [punishes s] d_sp / drift_scale))``.
    One-off packages (``extra_aid``, ``extra_security``) are added on top.

    Args:
        state: State at the start of the month.
        params: Fixed parameters.
        powers: Which powers to compute (all by default; a Mesa power agent passes its own).

    Returns:
        The allocation of the selected powers, ``(B, S, len(powers))`` each.
    """
    p = powers
    spend = params.budget[:, p] * state.budget_factor[:, p] * deployed(state, p)  # (B, P)
    drift = np.clip(params.a0[:, :, p] - state.alignment[:, :, p], 0.0, 1.0)
    scaled = drift / _b(params.drift_scale, 3)
    response = state.response[:, :, p]
    strength = params.responsiveness[:, None, p]
    weight = state.weights[:, :, p] * (1.0 + (response > 0) * strength * scaled)
    total = weight.sum(axis=1, keepdims=True)
    share = np.divide(weight, total, out=np.zeros_like(weight), where=total > 0)
    per_state = spend[:, None, :] * share  # (B, S, P)
    mix = state.mix[:, p, :]
    threat = params.threat_intensity[:, None, p] * (1.0 + (response < 0) * strength * scaled)
    return Allocation(
        aid=per_state * mix[:, None, :, 0] + state.extra_aid[:, :, p],
        security=per_state * mix[:, None, :, 1] + state.extra_security[:, :, p],
        rhetoric=per_state * mix[:, None, :, 2],
        threat_level=np.minimum(threat, 1.0),
        share=share,
    )


def lever_effects(
    alloc: Allocation, state: WorldState, params: Params, rows: slice = slice(None)
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Turn spending into effects in [0, 1] for the states in ``rows``.

    ``e_aid = 1 - exp(-aid / (aid_scale * gdp_month))``; security likewise, times the power's
    military capacity; rhetoric reach ``r`` likewise; courting ``= r * courting_p``; threats
    ``= r * threat_level``.

    Returns:
        ``(aid, security, courting, threats)``, each ``(B, len(rows), P)``.
    """
    gdp = params.gdp_month[:, rows, None]
    e_aid = _saturate(alloc.aid[:, rows], _b(params.aid_scale, 3) * gdp)
    e_sec = _saturate(alloc.security[:, rows], _b(params.security_scale, 3) * gdp)
    e_sec = e_sec * state.capacity[:, None, :]
    reach = _saturate(alloc.rhetoric[:, rows], _b(params.rhetoric_scale, 3) * gdp)
    courting = reach * params.courting[:, None, :]
    threats = reach * alloc.threat_level[:, rows]
    return e_aid, e_sec, courting, threats


def alternatives(x: FloatArray) -> FloatArray:
    """For each power, the chance that at least one *other* power is there for the state.

    ``alt_p = 1 - prod_{q != p} (1 - x_q)`` over the last axis (a noisy-or): each other power
    with value ``x_q`` in [0, 1] is a chance of support of its own, so two middling alternatives
    are worth more than one, and the state has no alternative only when no other power offers
    anything. With a single power there is none (0).

    Args:
        x: ``(..., P)`` values in [0, 1] of each power as an alternative.

    Returns:
        ``(..., P)`` in [0, 1].
    """
    n = x.shape[-1]
    if n < 2:
        return np.zeros_like(x)
    absent = np.broadcast_to(1.0 - x[..., None, :], (*x.shape, n))  # [..., p, q] = 1 - x_q
    others = np.where(np.eye(n, dtype=bool), 1.0, absent)  # the state's own p left out
    result: FloatArray = 1.0 - np.prod(others, axis=-1)
    return result


@dataclass(frozen=True)
class Settled:
    """The part of a month's relations that the powers' spending does not move (:func:`settle`).

    Attributes:
        trust: Trust relaxed toward its initial level, ``(B, len(rows), P)``.
        receptive: How much each state takes courting and aid to heart, ``(B, len(rows), P)``.
        threat: Threat relaxed toward its initial level.
        dependence: Every channel relaxed toward its level and the trade channel moved by the
            sanctions stance, ``(B, len(rows), P, K)``; the investment and security channels
            are still to be moved by aid and security aid.
    """

    trust: FloatArray
    receptive: FloatArray
    threat: FloatArray
    dependence: FloatArray


def settle(state: WorldState, params: Params, rows: slice) -> Settled:
    """This month's relations of the states in ``rows`` before the powers' spending acts.

    The relaxations toward the initial levels and the trade moved by the sanctions stance
    (:func:`decide`); :func:`respond` adds what the allocation does. A power's one-month look
    ahead (:func:`lever_returns`, :func:`choose_response`) settles once and responds for each
    allocation it compares.
    """
    tau = state.trust[:, rows]
    tau = tau + _b(params.trust_recovery, 3) * (params.trust0[:, rows] - tau)
    receptive = np.maximum(0.0, 1.0 + _b(params.w_affinity, 3) * params.affinity[:, rows])
    theta = state.threat[:, rows]
    theta = theta + _b(params.threat_decay, 3) * (params.threat0[:, rows] - theta)
    dep = state.dependence[:, rows]
    level = params.dep0[:, rows].copy()  # what each channel relaxes to
    host = np.maximum(state.budget_factor, 0.0) ** _b(params.remittance_elasticity, 2)
    level[..., REMITTANCES] = np.minimum(level[..., REMITTANCES] * host[:, None, :], 1.0)
    level[..., ENERGY] = rerouted_energy(params.dep0[:, rows, :, ENERGY], state.routes[:, rows])
    dep = dep + _b(params.dependence_decay, 4) * (level - dep)
    rerouted = (
        _b(params.sanctions_trade, 3) * state.sanctions_stance[:, rows] * bite(state)[:, None]
    )
    dep[..., TRADE] = nudge(dep[..., TRADE], rerouted)
    return Settled(tau, receptive, theta, dep)


def respond(
    settled: Settled,
    params: Params,
    effects: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    rows: slice,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """New trust, threat and dependence of the states in ``rows`` (see :func:`decide`).

    ``settled`` (:func:`settle`) moved by the lever effects of this month's allocation.
    """
    e_aid, e_sec, courting, threats = effects
    d_aid = e_aid - params.base_aid[:, rows]
    d_sec = e_sec - params.base_security[:, rows]
    d_court = courting - params.base_courting[:, rows]
    d_threat = threats - params.base_threats[:, rows]
    exposure = params.exposure[:, rows]
    receptive = settled.receptive
    tau = nudge(
        settled.trust, _b(params.trust_gain, 3) * np.clip(d_court + d_aid, -1.0, 1.0) * receptive
    )
    tau = nudge(tau, -_b(params.trust_loss, 3) * np.maximum(d_threat, 0.0) * exposure)
    theta = nudge(settled.threat, _b(params.threat_gain, 3) * d_threat * exposure)
    dep = settled.dependence.copy()
    gain = _b(params.dependence_gain, 3)
    dep[..., INVESTMENT] = nudge(dep[..., INVESTMENT], gain * d_aid)
    dep[..., SECURITY] = nudge(dep[..., SECURITY], gain * d_sec)
    return tau, theta, dep


def relations(
    state: WorldState,
    params: Params,
    effects: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    rows: slice,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """New trust, threat and dependence of the states in ``rows`` (see :func:`decide`)."""
    return respond(settle(state, params, rows), params, effects, rows)


def _score(
    state: WorldState,
    params: Params,
    tau: FloatArray,
    theta: FloatArray,
    dep: FloatArray,
    rows: slice,
) -> FloatArray:
    """Score of every power for the states in ``rows``, before the status-quo residual.

    The sum, left to right, of :func:`score_components` (one copy of the terms serves the model
    and the attribution of changes).
    """
    terms = iter(score_components(state, params, tau, theta, dep, rows).values())
    total = next(terms)
    for term in terms:
        total = total + term
    return total


def _overall(dep: FloatArray, params: Params) -> FloatArray:
    """Overall dependence ``sum_k channel_weights_k D_k``, ``dep`` without its channel axis."""
    overall: FloatArray = (dep @ params.channel_weights[:, None, :, None])[..., 0]
    return overall


def _resentment(state: WorldState, params: Params, rows: slice) -> FloatArray:
    """``R_sp = sum_q rivalry[q, p] a_sq / (P - 1)``: p's rivals' anger at the state's ties."""
    n_powers = max(state.alignment.shape[-1] - 1, 1)
    # matmul over every state, then the rows: the same kernel shapes whatever ``rows`` is, so
    # a Mesa agent's row equals the ensemble's bit for bit (and matmul beats einsum here)
    resent: FloatArray = (state.alignment @ params.rivalry)[:, rows] / n_powers
    return resent


def score_components(
    state: WorldState,
    params: Params,
    tau: FloatArray,
    theta: FloatArray,
    dep: FloatArray,
    rows: slice = slice(None),
    alt: FloatArray | None = None,
) -> dict[str, FloatArray]:
    """The terms of a state's score of each power, one array each (see :func:`decide`).

    Their sum, left to right, is the score the model uses (:func:`_score`); attribution splits
    changes of alignment over them.

    Args:
        state: State at the start of the month.
        params: Fixed parameters.
        tau: This month's trust, ``(B, len(rows), P)``.
        theta: This month's threat.
        dep: This month's dependence, ``(B, len(rows), P, K)``.
        rows: The states.
        alt: The states' alternatives to each power (:func:`alternatives`); None computes them
            from ``dep``. :func:`lever_returns` holds them at their start-of-month value.

    Returns:
        ``dependence, security, trust, membership, rivalry, threat``, each
        ``(B, len(rows), P)``.
    """
    overall = _overall(dep, params)
    value = dep[..., SECURITY] * reliability(state)[:, None, :]
    if alt is None:
        alt = alternatives(0.5 * (value + overall))
    resent = _resentment(state, params, rows)
    insecurity = state.insecurity[:, rows, None]
    w = {name: _b(value, 3) for name, value in params.model.items() if name.startswith("w_")}
    return {
        "dependence": w["w_dependence"] * overall,
        "security": w["w_security"] * (1.0 + insecurity) * value,
        "trust": w["w_trust"] * (2.0 * tau - 1.0),
        "membership": w["w_membership"] * state.membership[:, rows],
        "rivalry": -w["w_rivalry"] * resent,
        "threat": theta * (w["w_bandwagon"] * overall * (1.0 - alt) - w["w_threat"] * alt),
    }


RETURN_STEP = 0.01
"""The extra spending by which :func:`lever_returns` measures a lever's marginal return, as a
share of the power's monthly budget (spread over the states as the budget is). A step this
large keeps the difference of the objective far above its rounding error (a step of 1e-3 USD
million amplified that error a millionfold, so the order of the agents changed the returns at
1e-10), and small enough that the return is the local slope: the states' response to
spending is smooth and saturates over the whole budget, not over 1% of it."""


def _targets(
    state: WorldState, params: Params, alloc: Allocation, alt: FloatArray, settled: Settled
) -> FloatArray:
    """Each state's target alignment ``a*`` with each power, ``(B, S, P)``.

    After this month's relations with the allocation ``alloc`` (:func:`decide`), the
    alternatives ``alt`` held fixed (``settled``: :func:`settle` of ``state``, the part of the
    month's relations that no allocation moves). A state's row for power ``p`` depends on
    ``p``'s spending on that state alone.
    """
    effects = lever_effects(alloc, state, params)
    tau, theta, dep = respond(settled, params, effects, slice(None))
    terms = iter(score_components(state, params, tau, theta, dep, alt=alt).values())
    score = next(terms)
    for term in terms:
        score = score + term
    neutral = params.neutrality[:, :, None]
    target: FloatArray = (1.0 - neutral) / (
        1.0 + np.exp(-(score + params.residual))
    ) + neutral * params.a0
    return target


def _objective(
    state: WorldState, params: Params, alloc: Allocation, alt: FloatArray, settled: Settled
) -> FloatArray:
    """Each power's objective this month: ``J_p = sum_s priority_sp a*_sp``, ``(B, P)``.

    ``a*`` is the states' target alignment (:func:`_targets`).
    """
    target = _targets(state, params, alloc, alt, settled)
    result: FloatArray = (params.priority * target).sum(axis=1)
    return result


def _held_alternatives(state: WorldState, params: Params) -> FloatArray:
    """The states' alternatives to each power at the start of the month, as a power plans.

    :func:`alternatives` of the start-of-month dependence and the powers' planned reliability
    (:func:`planned_reliability`, this month's entry left out), ``(B, S, P)``.
    """
    overall = _overall(state.dependence, params)
    value = state.dependence[..., SECURITY] * planned_reliability(state)[:, None, :]
    return alternatives(0.5 * (value + overall))


def lever_returns(state: WorldState, params: Params, alloc: Allocation) -> FloatArray:
    """Each power's marginal return on each lever: what one more USD million is worth to it.

    The return of lever ``l`` (aid, security, rhetoric) to power ``p`` is the change of its
    objective ``J_p = sum_s priority_sp a*_sp`` (:func:`_objective`: the states' target
    alignment with it, weighted by how much it values each state) when it spends
    a step more on ``l`` (:data:`RETURN_STEP` of its monthly budget, at least 1e-3 USD million),
    spread over the states by its allocation shares, divided by that step: a one-month look
    ahead through the model's own equations (:func:`relations`, :func:`score_components`),
    the states' alternatives held at their start-of-month value (with the powers' planned
    reliability, :func:`planned_reliability`, which leaves this
    month's entry out). So a power's returns depend on its own spending and entry alone,
    whatever the others decide this month.

    Args:
        state: State at the start of the month (not modified).
        params: Fixed parameters.
        alloc: This month's allocation of every power (:func:`allocate`).

    Returns:
        ``(B, P, 3)``, per USD million; negative where spending more loses ground (a
        threatening power's rhetoric).
    """
    return _returns(state, params, alloc).levers


@dataclass(frozen=True)
class Returns:
    """What one more USD million is worth to each power, by lever and by state.

    Attributes:
        levers: The return of each lever, spread over the states by the allocation's shares,
            ``(B, P, 3)`` (:func:`lever_returns`).
        states: The return of spending more on each state, with the lever mix of the
            allocation measured (``sum_l mix_pl R_spl``, ``R_spl`` the change of
            ``priority_sp a*_sp`` per USD million more on lever ``l`` in state ``s``),
            ``(B, S, P)``; 0 where the power spends nothing on the state.
        alternatives: The start-of-month alternatives the look ahead held fixed
            (:func:`_held_alternatives`), which :func:`choose_response` reuses; None where
            the returns were given rather than measured.
        settled: The month's relations before spending (:func:`settle`), likewise.
    """

    levers: FloatArray
    states: FloatArray
    alternatives: FloatArray | None = None
    settled: Settled | None = None


def _returns(
    state: WorldState, params: Params, alloc: Allocation, mix: FloatArray | None = None
) -> Returns:
    """:func:`lever_returns`, and the same look ahead read state by state.

    ``mix`` weighs the levers' per-state returns (the scenario's habit by default).
    """
    alt, settled = _held_alternatives(state, params), settle(state, params, slice(None))
    target = _targets(state, params, alloc, alt, settled)
    base = (params.priority * target).sum(axis=1)
    out = []
    per_state = np.zeros_like(target)
    step = np.maximum(RETURN_STEP * params.budget, 1e-3)  # (B, P), USD million
    spent = step[:, None, :] * alloc.share  # (B, S, P): the step on each state
    weights = params.mix if mix is None else mix
    for k, lever in enumerate(("aid", "security", "rhetoric")):
        more = replace(alloc, **{lever: getattr(alloc, lever) + spent})
        moved = _targets(state, params, more, alt, settled)
        out.append(((params.priority * moved).sum(axis=1) - base) / step)
        gained = params.priority * (moved - target)
        ratio = np.divide(gained, spent, out=np.zeros_like(gained), where=spent > 0.0)
        per_state = per_state + weights[:, None, :, k] * ratio
    return Returns(np.stack(out, axis=-1), per_state, alt, settled)


def habit_returns(state: WorldState, params: Params) -> Returns:
    """The returns (:func:`lever_returns`, by lever and by state) of the power's habitual plan.

    The habit is the scenario's lever mix (``params.mix``) and its priorities as allocation
    weights (``params.priority``), spent with this month's budget, attention, entry and
    responses; :func:`learn_mix`, :func:`learn_weights` and :func:`choose_response` read these
    returns, every power's (a Mesa power agent slices its own).
    """
    habit = replace(state, mix=params.mix, weights=params.priority)
    return _returns(state, params, allocate(habit, params))


def learn_mix(
    state: WorldState,
    params: Params,
    powers: slice = slice(None),
    returns: Returns | None = None,
) -> FloatArray:
    """Powers move their lever mix toward the levers whose return has risen most.

    The scenario's lever mix is read as each power's habit before the scenario starts, its
    answer to the returns of the initial state ``R0`` (``params.base_returns``). Each month the
    power measures what its habitual plan would earn now: the returns ``R`` (:func:`lever_returns`)
    of the allocation its habitual mix ``mix0`` would give this month (its budget, attention and
    entry as they are now). It compares them with ``R0`` and moves a share ``mix_learning`` of
    its mix toward its habit reweighted by how much each lever gained:
    ``mix_p <- (1 - lambda) mix_p + lambda mix0_p rho_p / sum_l mix0_pl rho_pl`` with
    ``rho_pl = max(1 + (R_pl - R0_pl) / Rbar0_p, 0)``, where ``Rbar0_p = sum_l mix0_pl R0_pl``
    is the power's average return at the start. A lever's gain or loss is thus measured against
    what the power's spending earned on average, not against the lever's own initial return: a
    lever that paid little (security aid, whose one-month return is small) is not swung by the
    small wobbles the states' noise gives its return. The returns are measured at the habitual
    plan, not at the current one, because the states answer more and less spending than before
    at different rates (:func:`nudge`: trust gained moves toward 1, trust lost toward 0), so a
    lever cut below its habit would earn less at the margin, be cut further, and the mix would
    run away from any wobble; measured at the habit, what the power learns is how the world
    has changed, and its mix stays near its habit in a world that does not change. In the
    initial state every ``rho`` is 1, so the status quo stays a fixed point; when a shock
    cuts what a lever can do (the war, Russia's military capacity) its share shrinks toward the
    levers that still pay. A power whose spending earned nothing at the start
    (``Rbar0_p <= 0``) keeps its mix. The new mix is spent from the next month.

    Args:
        state: State at the start of the month (not modified).
        params: Fixed parameters (``mix_learning``, ``mix``, ``base_returns``).
        powers: Which powers learn (all by default; a Mesa power agent passes its own).
        returns: :func:`habit_returns` of ``state`` when the caller has them (None computes
            them).

    Returns:
        The new mix of the selected powers, ``(B, len(powers), 3)``.
    """
    if returns is None:
        returns = habit_returns(state, params)
    r = returns.levers[:, powers]
    r0 = params.base_returns[:, powers]
    average = (params.mix[:, powers] * r0).sum(axis=-1, keepdims=True)
    paid = average > 0.0
    gain = (r - r0) / np.where(paid, average, 1.0)
    rho = np.where(paid, np.maximum(1.0 + gain, 0.0), 1.0)
    mix = state.mix[:, powers]
    habit = params.mix[:, powers]
    weighted = habit * rho
    total = weighted.sum(axis=-1, keepdims=True)
    toward = np.divide(weighted, total, out=habit.copy(), where=total > 0.0)
    rate = _b(params.mix_learning, 3)
    result: FloatArray = (1.0 - rate) * mix + rate * toward
    return result


def learn_weights(
    state: WorldState,
    params: Params,
    powers: slice = slice(None),
    returns: Returns | None = None,
) -> FloatArray:
    """Powers move their allocation over the states toward the states whose return has risen.

    As with the lever mix (:func:`learn_mix`), the scenario's priorities are read as each
    power's habit, its answer to the returns of the initial state ``R0_sp``
    (``params.base_state_returns``: what one more USD million on state ``s``, spent with the
    habitual lever mix, adds to ``priority_sp a*_sp`` one month ahead). Each month the power
    measures the same returns ``R_sp`` of its habitual plan now (:func:`habit_returns`) and
    moves a share ``allocation_learning`` of its weights toward its priorities reweighted by
    how much each state's return has gained, in units of its average return at the start,
    ``Rbar0_p = sum_s sh0_sp R0_sp`` (``sh0`` the initial shares):
    ``u_sp <- (1 - lambda) u_sp + lambda pi_sp rho_sp sum_t pi_tp / sum_t pi_tp rho_tp``, with
    ``rho_sp = max(1 + (R_sp - R0_sp) / Rbar0_p, 0)``. The weights keep their sum; in the
    initial state every ``rho`` is 1, so the status quo stays a fixed point. A power whose
    spending earned nothing at the start (``Rbar0_p <= 0``) keeps its weights. What the power
    values stays its priorities (its objective); the weights are where it spends.

    Args:
        state: State at the start of the month (not modified).
        params: Fixed parameters (``allocation_learning``, ``priority``,
            ``base_state_returns``).
        powers: Which powers learn (all by default; a Mesa power agent passes its own).
        returns: :func:`habit_returns` of ``state`` when the caller has them.

    Returns:
        The new weights of the selected powers, ``(B, S, len(powers))``.
    """
    if returns is None:
        returns = habit_returns(state, params)
    habit = params.priority[:, :, powers]
    r, r0 = returns.states[:, :, powers], params.base_state_returns[:, :, powers]
    total = habit.sum(axis=1, keepdims=True)
    share0 = np.divide(habit, total, out=np.zeros_like(habit), where=total > 0.0)
    average = (share0 * r0).sum(axis=1, keepdims=True)
    paid = average > 0.0
    rho = np.where(paid, np.maximum(1.0 + (r - r0) / np.where(paid, average, 1.0), 0.0), 1.0)
    weighted = habit * rho
    mass = weighted.sum(axis=1, keepdims=True)
    toward = np.divide(weighted * total, mass, out=habit.copy(), where=mass > 0.0)
    rate = _b(params.allocation_learning, 3)
    result: FloatArray = (1.0 - rate) * state.weights[:, :, powers] + rate * toward
    return result


def choose_response(
    state: WorldState,
    params: Params,
    returns: Returns,
    powers: slice = slice(None),
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Powers decide how to answer each drifting state: court it, punish it or ignore it.

    Where state ``s`` has drifted from power ``p`` (``d_sp = a0_sp - a_sp``) by at least
    ``response_threshold``, ``p`` compares the one-month gain in its objective in that state
    (``priority_sp a*_sp``, :func:`_targets`, through the model's own equations, the states'
    alternatives held at their start-of-month value) of its two responses at its
    responsiveness ``r_p``, against ignoring the drift (its plan with no response to ``s``):

    - courting spends ``r_p d_sp / drift_scale`` more on ``s`` (aid, security aid and rhetoric
      alike); the money comes from the power's other states, where it would have earned the
      power's average return per USD million, ``Rbar_p = sum_l mix_pl R_pl`` (``returns``), so
      ``G^court_sp = priority_sp (a*_sp(court) - a*_sp(ignore)) - Rbar_p * extra_sp``;
    - punishing raises the threat level toward ``s`` to
      ``min(1, threat_intensity_p (1 + r_p d_sp / drift_scale))``; it costs no money, and pays
      only where the threat makes ``s`` bandwagon (few alternatives) more than it costs trust:
      ``G^punish_sp = priority_sp (a*_sp(punish) - a*_sp(ignore))``.

    The power takes the response with the larger gain if it is positive, and ignores the drift
    otherwise (and where the drift is below the threshold). A power whose scenario fixes its
    response (``court``, ``punish`` or ``ignore``, ``params.decides`` 0) keeps it. The rule uses
    no random numbers; the new responses act from the next month.

    Args:
        state: State at the start of the month (not modified).
        params: Fixed parameters.
        returns: :func:`habit_returns` of ``state`` (its alternatives and settled relations are
            reused: they do not depend on the allocation).
        powers: Which powers decide (all by default; a Mesa power agent passes its own). A
            power's gains depend on its own spending alone, so the order does not matter.

    Returns:
        ``(response, court_gain, punish_gain)`` of the selected powers, each
        ``(B, S, len(powers))``.
    """
    decides = params.decides[:, None, :] > 0.0
    drift = np.clip(params.a0 - state.alignment, 0.0, 1.0)
    boost = params.responsiveness[:, None, :] * drift / _b(params.drift_scale, 3)
    boost = np.where(decides & (drift >= _b(params.response_threshold, 3)), boost, 0.0)
    if not boost.any():  # nothing to answer (or every response fixed): no look ahead needed
        zeros = np.zeros_like(state.response[:, :, powers])
        response = np.where(decides, 0.0, state.response)[:, :, powers]
        return response, zeros, zeros.copy()
    ignoring = allocate(replace(state, response=np.zeros_like(state.response)), params)
    alt, settled = returns.alternatives, returns.settled  # the same month's view, held fixed
    if alt is None or settled is None:
        alt, settled = _held_alternatives(state, params), settle(state, params, slice(None))
    base = _targets(state, params, ignoring, alt, settled)
    aid = ignoring.aid - state.extra_aid
    security = ignoring.security - state.extra_security
    courted = replace(
        ignoring,
        aid=ignoring.aid + aid * boost,
        security=ignoring.security + security * boost,
        rhetoric=ignoring.rhetoric * (1.0 + boost),
    )
    threat = params.threat_intensity[:, None, :] * (1.0 + boost)
    punished = replace(ignoring, threat_level=np.minimum(threat, 1.0))
    average = (state.mix * returns.levers).sum(axis=-1)[:, None, :]  # (B, 1, P) per USD million
    extra = (aid + security + ignoring.rhetoric) * boost
    court = params.priority * (_targets(state, params, courted, alt, settled) - base)
    court = court - average * extra
    punish = params.priority * (_targets(state, params, punished, alt, settled) - base)
    punishes = np.where((punish >= court) & (punish > 0.0), -1.0, 0.0)
    chosen = np.where((court > punish) & (court > 0.0), 1.0, punishes)
    response = np.where(decides, chosen, state.response)
    return response[:, :, powers], court[:, :, powers], punish[:, :, powers]


def response_name(value: float) -> str:
    """``courts``, ``punishes`` or ``ignores`` for a power's response +1, -1 or 0."""
    return {1.0: "courts", -1.0: "punishes"}.get(float(value), "ignores")


def choose_stance(
    pull: FloatArray,
    dependence: FloatArray,
    resentment: FloatArray,
    previous: FloatArray,
    params: Params,
) -> tuple[FloatArray, FloatArray]:
    """Each state's public stance toward each power: distance (-1), neutral (0), rapprochement (+1).

    The state weighs how far its own judgement of power ``p`` has moved since the start,
    ``pull = a*_judged - a0`` (its target alignment without the part its own bloc
    participation contributes, see :func:`decide`), against the cost of saying so in public:
    distancing from ``p`` risks what the state depends on ``p`` for,
    ``cost = stance_cost * dep_sp`` (overall dependence); a rapprochement with ``p`` angers
    ``p``'s rivals, ``cost = stance_cost * R_sp`` (:func:`_resentment`). With
    ``margin = |pull| - cost``, the state takes the stance ``sign(pull)`` when
    ``margin > stance_threshold`` and holds a stance it has taken while ``margin > 0``
    (hysteresis: a public turn needs a clear reason, and is not taken back on a small wobble);
    otherwise it is neutral.

    Args:
        pull: ``a*_judged - a0``, ``(B, S, P)``.
        dependence: Overall dependence on each power, ``(B, S, P)``.
        resentment: ``R_sp``, ``(B, S, P)``.
        previous: The stance held so far, ``(B, S, P)``.
        params: Fixed parameters (``stance_threshold``, ``stance_cost``).

    Returns:
        ``(stance, cost)``: the new stance and the cost of a stance in the direction of the
        pull, each ``(B, S, P)``.
    """
    direction = np.sign(pull)
    cost = _b(params.stance_cost, 3) * np.where(pull < 0.0, dependence, resentment)
    margin = np.abs(pull) - cost
    adopt = margin > _b(params.stance_threshold, 3)
    hold = (previous == direction) & (margin > 0.0)
    stance: FloatArray = np.where(adopt | hold, direction, 0.0)
    return stance, cost


def bite(state: WorldState) -> FloatArray:
    """The bite of the sanctions on each power, the largest of any power's on it, ``(B, P)``."""
    result: FloatArray = state.sanctions.max(axis=1)
    return result


def choose_sanctions_stance(
    state: WorldState,
    params: Params,
    dep: FloatArray,
    overall: FloatArray,
    previous: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Each state's stance toward the sanctions on each power: comply, stay out or facilitate.

    The stance is -1 (comply), 0 (stay out) or +1 (facilitate the sanctioned power's trade).
    Facilitating the trade of a power ``p`` under sanctions of bite ``b_p`` (:func:`bite`)
    earns in proportion to the state's trade with ``p``, ``D_trade[s, p]``, and puts at risk
    what it has with the powers that sanction ``p`` (their secondary sanctions), the sum of its
    overall dependence on each of them, ``Z_sp = sum_{q: b_qp > 0} D_sq``. With
    ``margin = b_p (D_trade[s, p] - sanctions_risk * Z_sp)`` the state facilitates when
    ``margin > stance_threshold``, complies when ``margin < -stance_threshold``, and holds a
    stance it has taken while the margin keeps its sign (hysteresis, as for the public stance,
    :func:`choose_stance`); otherwise it stays out. Where no power is under sanctions every
    state stays out.

    Args:
        state: State at the start of the month (not modified).
        params: Fixed parameters (``sanctions_risk``, ``stance_threshold``).
        dep: This month's dependence of the deciding states, ``(B, S', P, K)``.
        overall: Their overall dependence on each power, ``(B, S', P)`` (:func:`_overall`).
        previous: Their stance so far, ``(B, S', P)``.

    Returns:
        ``(stance, margin)``, each ``(B, S', P)``.
    """
    b = bite(state)[:, None, :]
    sanctioners = (state.sanctions > 0.0).astype(float)  # (B, Q, P)
    at_risk = overall @ sanctioners  # (B, S, P): sum over the sanctioners q of p of D_sq
    margin: FloatArray = b * (dep[..., TRADE] - _b(params.sanctions_risk, 3) * at_risk)
    direction = np.sign(margin)
    adopt = np.abs(margin) > _b(params.stance_threshold, 3)
    hold = (previous == direction) & (direction != 0.0)
    stance: FloatArray = np.where((adopt | hold) & (b > 0.0), direction, 0.0)
    return stance, margin


def sanctions_stance_name(value: float) -> str:
    """``comply``, ``stay out`` or ``facilitate`` for a sanctions stance of -1, 0 or +1."""
    return SANCTIONS_STANCES[round(value) + 1]


def stance_name(value: float) -> str:
    """``distance``, ``neutral`` or ``rapprochement`` for a stance of -1, 0 or +1."""
    return STANCES[round(value) + 1]


def choose_request(state: WorldState, params: Params, s: int, severity: FloatArray) -> IndexArray:
    """Whom state ``s`` asks for help in a crisis of severity ``m``, or nobody.

    Help is worth what the power can deliver where the state is tied to it for security:
    ``value_p = m * D_security[s, p] * reliability_p`` (:func:`reliability`; without a security
    tie there is no treaty, base or habit of working together that lets help arrive in time).
    Turning to ``p`` angers ``p``'s rivals, ``cost_p = request_cost * R_sp``
    (:func:`_resentment`). The state asks the power with the largest ``value_p - cost_p`` when
    that is above 0 (the first in file order on a tie), and nobody otherwise: a mild crisis, or
    one where every possible helper is weak or resented, the state handles alone.

    Args:
        state: State of the world when the crisis breaks (not modified).
        params: Fixed parameters (``request_cost``).
        s: Index of the state in crisis.
        severity: The crisis's severity ``m`` in each run, ``(B,)``.

    Returns:
        The power asked in each run, ``(B,)`` (-1: nobody).
    """
    value = severity[:, None] * state.dependence[:, s, :, SECURITY] * reliability(state)
    cost = _b(params.request_cost, 2) * _resentment(state, params, slice(s, s + 1))[:, 0]
    net = value - cost
    best = net.argmax(axis=1)
    chosen: IndexArray = np.where(net[np.arange(len(best)), best] > 0.0, best, -1)
    return chosen


def honour_value(state: WorldState, params: Params, s: int, asked: IndexArray) -> FloatArray:
    """How much answering state ``s`` is worth to the power it asked, per run.

    ``h = (1 - honour_stakes) * reliability_p + honour_stakes * stake_sp``: what the power can do
    (its :func:`reliability`: credibility, capacity, deployed attention) and what it stands to
    lose if the state drifts away, ``stake_sp = min(1, a_sp * priority_sp / mean_t
    priority_tp)``: the state's alignment with it, weighted by how much the power values that
    state against the others (its allocation ``priority``, such as the bases it keeps there). A
    power with equal priorities (or none above 0) weighs the alignment alone. In [0, 1].

    Args:
        state: State of the world when the call is made (not modified).
        params: Fixed parameters (``honour_stakes``, ``priority``).
        s: Index of the calling state.
        asked: The power asked in each run, ``(B,)``, all >= 0.

    Returns:
        ``(B,)``.
    """
    runs = np.arange(len(asked))
    k = params.honour_stakes
    mean = params.priority[runs, :, asked].mean(axis=1)
    own = params.priority[runs, s, asked]
    weight = np.divide(own, mean, out=np.ones_like(own), where=mean > 0.0)
    stake = np.minimum(1.0, state.alignment[runs, s, asked] * weight)
    value: FloatArray = (1.0 - k) * reliability(state)[runs, asked] + k * stake
    return value


def answer_requests(
    state: WorldState,
    params: Params,
    callers: list[int],
    asked: list[IndexArray],
    severity: FloatArray,
) -> list[Answer]:
    """The asked powers decide whether to answer the calls for help, and the answers act.

    A power answers a call when its :func:`honour_value` is at least ``honour_threshold``. A
    power asked by more than one state in the same event (both sides of a border war) backs at
    most one: the one it values most (the first caller on a tie); the others it refuses. All the
    answers are decided from the state of the world before any of them acts. Then, with ``m`` the
    severity, for the calling state ``s`` and the asked power ``p``:

    - answered: ``tau_sp <- nudge(tau_sp, m)``, ``D_security <- nudge(D_security, m / 2)``,
      ``c_p <- nudge(c_p, m / 10)``, and the state takes part more in ``p``'s blocs,
      ``M_sp <- nudge(M_sp, participation_shift m)``;
    - refused: ``tau_sp <- nudge(tau_sp, -m)``, ``c_p <- nudge(c_p, -credibility_penalty m)``,
      ``M_sp <- nudge(M_sp, -participation_shift m)`` (joint drills and summits with a power
      that left the state alone are cancelled or downgraded);
    - nobody asked: nothing beyond the crisis itself;
    - a power that backs one side of a border war sides against the other: for every other
      calling state ``t`` that did not ask that power, ``tau_tp <- nudge(tau_tp, -m)`` and
      ``M_tp <- nudge(M_tp, -participation_shift m)`` (as a refusal, without the credibility
      penalty: nobody asked it).

    Participation moved this way relaxes back to the level the state's stance sets
    (:func:`decide`). The state's row of ``state.request`` records the answer (+1, -1) under
    the asked power.

    Args:
        state: State to modify in place.
        params: Fixed parameters (``honour_threshold``, ``credibility_penalty``,
            ``participation_shift``).
        callers: Indices of the calling states (one entry per call).
        asked: The power each call goes to in each run, ``(B,)`` each (-1: nobody).
        severity: ``(B,)``.

    Returns:
        One :class:`Answer` per call, in the order of ``callers``.
    """
    runs = np.arange(len(severity))
    values = [
        np.where(p >= 0, honour_value(state, params, s, np.maximum(p, 0)), -np.inf)
        for s, p in zip(callers, asked, strict=True)
    ]
    answered = [
        (p >= 0) & (v >= params.honour_threshold) for p, v in zip(asked, values, strict=True)
    ]
    for i, (p_i, v_i) in enumerate(zip(asked, values, strict=True)):
        for j, (p_j, v_j) in enumerate(zip(asked, values, strict=True)):
            if j != i and callers[j] != callers[i]:
                beaten = (v_j > v_i) | ((v_j == v_i) & (j < i))
                answered[i] = answered[i] & ~((p_j == p_i) & beaten)
    m = severity
    shift = params.participation_shift * m
    for s in set(callers):
        state.request[:, s] = 0.0
    for s, p, ok in zip(callers, asked, answered, strict=True):
        made = p >= 0
        q = np.maximum(p, 0)
        trust = state.trust[runs, s, q]
        sec = state.dependence[runs, s, q, SECURITY]
        cred = state.credibility[runs, q]
        part = state.membership[runs, s, q]
        penalty = params.credibility_penalty
        state.trust[runs, s, q] = np.where(
            made, np.where(ok, nudge(trust, m), nudge(trust, -m)), trust
        )
        state.membership[runs, s, q] = np.where(
            made, np.where(ok, nudge(part, shift), nudge(part, -shift)), part
        )
        state.dependence[runs, s, q, SECURITY] = np.where(ok, nudge(sec, m / 2), sec)
        state.credibility[runs, q] = np.where(
            made, np.where(ok, nudge(cred, m / 10), nudge(cred, -penalty * m)), cred
        )
        state.request[runs, s, q] = np.where(
            made, np.where(ok, 1.0, -1.0), state.request[runs, s, q]
        )
    for s, p, ok in zip(callers, asked, answered, strict=True):  # siding with s against t
        q = np.maximum(p, 0)
        for t, p_t in zip(callers, asked, strict=True):
            against = ok & (t != s) & (p_t != p)
            trust, part = state.trust[runs, t, q], state.membership[runs, t, q]
            state.trust[runs, t, q] = np.where(against, nudge(trust, -m), trust)
            state.membership[runs, t, q] = np.where(against, nudge(part, -shift), part)
    return [
        Answer(state=s, power=p, yes=ok) for s, p, ok in zip(callers, asked, answered, strict=True)
    ]


def accept_offer(
    state: WorldState, params: Params, s: int, p: int, amount: FloatArray, security: bool
) -> BoolArray:
    """Whether state ``s`` accepts power ``p``'s package of ``amount`` USD million, per run.

    The gain is what the package is worth in the state's economy, the effect the same money
    has as a month's spending (:func:`lever_effects`): ``g = 1 - exp(-amount / (scale *
    gdp_month_s))`` with the aid or security scale, for an arms deal times ``p``'s military
    capacity. Taking it angers ``p``'s rivals as much as any tie to ``p`` does: the cost is
    ``offer_cost * R_sp`` (:func:`_resentment`). The state accepts when ``g > cost``; a refused
    package never lands.

    Args:
        state: State of the world when the offer is made (not modified).
        params: Fixed parameters (``aid_scale``, ``security_scale``, ``offer_cost``).
        s: Index of the state offered the package.
        p: Index of the offering power.
        amount: The package in each run, ``(B,)`` USD million.
        security: An arms deal (security scale and capacity) rather than aid.

    Returns:
        ``(B,)``.
    """
    scale = params.security_scale if security else params.aid_scale
    gain = _saturate(amount, scale * params.gdp_month[:, s])
    if security:
        gain = gain * state.capacity[:, p]
    cost = params.offer_cost * _resentment(state, params, slice(s, s + 1))[:, 0, p]
    accepted: BoolArray = gain > cost
    return accepted


def decide(
    state: WorldState,
    params: Params,
    alloc: Allocation,
    noise: FloatArray,
    rows: slice = slice(None),
) -> StateRows:
    """States update trust, threat and dependence, then their alignment.

    Levers act through their change from the status quo: with ``e`` this month's effects
    (:func:`lever_effects`) and ``e0`` the effects of the initial allocation on the initial state
    (``params.base_*``), ``de = e - e0``. A power that keeps spending as at the start changes
    nothing; one that spends more gains, one that is cut back (the war) loses. For state ``s``
    and power ``p`` (rates per month; ``nudge`` moves a share of the way toward 1 or 0):

    - trust relaxes toward its initial level at ``trust_recovery``, then
      ``tau <- nudge(tau, trust_gain * (d_court + d_aid) * max(0, 1 + w_affinity affinity))``
      (a state with affinity to a power, by language, kinship or history, takes its courting
      and aid more to heart; one averse to it less) and
      ``tau <- nudge(tau, -trust_loss * max(d_threats, 0) * exposure)``;
    - threat relaxes toward its initial level at ``threat_decay``, then
      ``theta <- nudge(theta, threat_gain * d_threats * exposure)``;
    - every dependence channel relaxes toward its initial level at ``dependence_decay``, the
      energy channel toward its level with the state's new routes (:func:`rerouted_energy`),
      the remittances from a power toward their initial level times the power's economy, its
      budget factor ``f_p ** remittance_elasticity``, at most 1 (migrants' earnings follow the host
      economy that sanctions shrink); aid moves the investment channel and security aid the
      security channel by ``dependence_gain * d_aid`` and ``dependence_gain * d_security``; the
      stance toward the sanctions on a power held so far moves the trade with it by
      ``nudge(D_trade, sanctions_trade * stance * bite)`` (:func:`choose_sanctions_stance`);
      overall dependence ``dep = sum_k channel_weights_k D_k``;
    - security value ``v = D_security * reliability`` (:func:`reliability`); the best
      alternatives ``alt = 1 - prod_{q != p} (1 - (v_q + dep_q) / 2)``
      (:func:`alternatives`: the chance that some other power is there for the state);
    - score ``= w_dependence dep + w_security (1 + insecurity) v + w_trust (2 tau - 1)
      + w_membership membership - w_rivalry R + theta (w_bandwagon dep
      (1 - alt) - w_threat alt) + residual`` where ``R = sum_q rivalry[q, p] a_sq / (P - 1)``:
      high threat with credible alternatives repels (balancing), high threat with high
      dependence and no alternative attracts (bandwagoning); ``residual`` (see
      :func:`status_quo`) makes the initial alignment the target in the initial state;
    - target ``a* = (1 - neutrality) sigmoid(score) + neutrality a0``;
    - peers ``m = a0 + sum_t peers[s, t] (a_tp - a0_tp)``: a state follows its neighbours'
      moves away from (or toward) a power (demonstration effect);
    - alignment (partial adjustment) ``a' = clip((1 - speed) a + speed ((1 - peer_effect) a*
      + peer_effect m) + noise * eps)``. The one pull toward the initial alignment is the
      status-quo target (the residual); there is no separate anchor term;
    - participation in each power's blocs follows the stance held so far, ``sigma``:
      ``m' = m + participation_rate (nudge(m0, participation_shift sigma) - m)``, so a state
      that distances itself takes part less (fewer drills, lower-level delegations) and comes
      back when it turns neutral again;
    - exit: a state that has kept its distance (``sigma = -1``) and whose participation has
      fallen below ``exit_threshold * m0`` leaves the power's blocs for good: its participation
      drops to 0 and stays there (``m0`` counts as 0 from then on); a reversible cut in
      participation is not an exit, and the model has no rejoining;
    - the state judges each power without the part its own participation contributes,
      ``a*_judged = (1 - neutrality) sigmoid(score - w_membership (m - m0)) + neutrality a0``,
      and chooses its stance from ``pull = a*_judged - a0`` (:func:`choose_stance`); a change of
      stance is a public signal that moves its own trust once,
      ``tau' = nudge(tau', stance_effect (sigma' - sigma))``.

    Args:
        state: State at the start of the month (not modified).
        params: Fixed parameters.
        alloc: This month's allocation of all powers.
        noise: Standard normal draws for this month, ``(B, S, P)``.
        rows: Which states to compute (all by default; a Mesa state agent passes its own).

    Returns:
        The new rows.
    """
    effects = lever_effects(alloc, state, params, rows)
    tau, theta, dep = relations(state, params, effects, rows)
    score = _score(state, params, tau, theta, dep, rows) + params.residual[:, rows]
    neutral = params.neutrality[:, rows, None]
    a0 = params.a0[:, rows]
    target = (1.0 - neutral) / (1.0 + np.exp(-score)) + neutral * a0
    membership = state.membership[:, rows]
    previous = state.stance[:, rows]
    own = _b(params.w_membership, 3) * (membership - params.membership0[:, rows])
    judged = (1.0 - neutral) / (1.0 + np.exp(own - score)) + neutral * a0
    pull = judged - a0
    overall = _overall(dep, params)
    stance, cost = choose_stance(pull, overall, _resentment(state, params, rows), previous, params)
    tau = nudge(tau, _b(params.stance_effect, 3) * (stance - previous))
    sanctions_stance, margin = choose_sanctions_stance(
        state, params, dep, overall, state.sanctions_stance[:, rows]
    )
    m0 = params.membership0[:, rows]
    exited = state.exited[:, rows]
    level = nudge(m0 * (1.0 - exited), _b(params.participation_shift, 3) * previous)
    membership = membership + _b(params.participation_rate, 3) * (level - membership)
    hollow = membership < _b(params.exit_threshold, 3) * m0
    leave = (exited == 0.0) & (previous == -1.0) & hollow
    membership = np.where(leave, 0.0, membership)
    exited = np.where(leave, 1.0, exited)
    a_all = state.alignment
    peer = np.clip(a0 + (params.peers @ (a_all - params.a0))[:, rows], 0.0, 1.0)
    speed, phi = _b(params.adjustment_speed, 3), _b(params.peer_effect, 3)
    sigma = _b(params.noise, 3)
    moved = (1.0 - speed) * a_all[:, rows] + speed * ((1.0 - phi) * target + phi * peer)
    new_a = moved + sigma * noise[:, rows]
    return StateRows(
        rows=rows,
        alignment=np.clip(new_a, 0.0, 1.0),
        trust=tau,
        threat=theta,
        dependence=dep,
        membership=membership,
        exited=exited,
        stance=stance,
        pull=pull,
        cost=cost,
        sanctions_stance=sanctions_stance,
        margin=margin,
    )


def status_quo(params: Params, state: WorldState) -> Params:
    """Calibrate the status quo: baseline lever effects and the score residual.

    The starting values of a scenario are read as the accumulated result of the policies in
    force before it starts. So the effects of the initial allocation on the initial state become
    the baseline (``base_aid``, ``base_security``, ``base_courting``, ``base_threats``), and the
    residual ``logit(a0) - score0`` makes each initial alignment exactly the target of the
    initial state. Without events, noise and strategic responses the initial state is then a
    fixed point; what moves alignment is what changes.

    Args:
        params: Parameters whose ``base_*`` and ``residual`` fields are ignored.
        state: The initial state.

    Returns:
        The parameters with ``base_*`` and ``residual`` set.
    """
    zeros = np.zeros_like(params.a0)
    params = replace(
        params,
        base_aid=zeros,
        base_security=zeros,
        base_courting=zeros,
        base_threats=zeros,
        base_returns=np.zeros_like(state.mix),
        base_state_returns=zeros,
        residual=zeros,
    )
    e_aid, e_sec, courting, threats = lever_effects(allocate(state, params), state, params)
    params = replace(
        params, base_aid=e_aid, base_security=e_sec, base_courting=courting, base_threats=threats
    )
    score = _score(
        state, params, params.trust0, params.threat0, state.dependence.copy(), slice(None)
    )
    a0 = np.clip(params.a0, 1e-6, 1.0 - 1e-6)
    params = replace(params, residual=np.log(a0) - np.log1p(-a0) - score)
    start = _returns(state, params, allocate(state, params))
    return replace(params, base_returns=start.levers, base_state_returns=start.states)


def commit(state: WorldState, updates: list[StateRows], params: Params) -> WorldState:
    """Write the states' new rows, decay insecurity and clear one-off packages.

    Args:
        state: State at the start of the month.
        updates: Rows from :func:`decide`, covering every state exactly once.
        params: Fixed parameters.

    Returns:
        The state at the end of the month (a new object; ``state`` is not modified).
    """
    names = (
        "alignment",
        "trust",
        "threat",
        "dependence",
        "membership",
        "exited",
        "stance",
        "sanctions_stance",
    )
    if len(updates) == 1 and updates[0].alignment.shape == state.alignment.shape:
        # one update of every row (the ensemble engine): its arrays are fresh, take them as they are
        rows = {name: getattr(updates[0], name) for name in names}
    else:
        rows = {name: getattr(state, name).copy() for name in names}
        for up in updates:
            for name, arr in rows.items():
                arr[:, up.rows] = getattr(up, name)
    return replace(
        state,
        **rows,
        insecurity=state.insecurity * (1.0 - params.insecurity_decay[:, None]),
        extra_aid=np.zeros_like(state.extra_aid),
        extra_security=np.zeros_like(state.extra_security),
    )


@dataclass(frozen=True)
class ShockProfile:
    """The time profile of a power shock, per run ``(B,)`` (``Event.onset`` and so on).

    Attributes:
        onset: Months from the event to its full effect.
        persistence: Months at full effect after the onset.
        decay: Share of the remaining shock that fades each month after that.
    """

    onset: FloatArray
    persistence: FloatArray
    decay: FloatArray

    def is_step(self) -> bool:
        """Whether the shock is at full effect at once and for ever in every run."""
        return not (np.any(self.onset) or np.any(self.decay))


def shock_level(k: int, profile: ShockProfile) -> FloatArray:
    """How much of a shock stands in month ``k`` after its event (``k = 0``: its own month).

    ``h(k) = min(1, (k + 1) / (onset + 1)) * (1 - decay) ** max(0, k - onset - persistence)``:
    a linear build-up over ``onset`` months, a plateau of ``persistence`` months, then a
    geometric decay; ``h(k) = 0`` before the event.

    Args:
        k: Months since the event's month.
        profile: The shock's profile.

    Returns:
        ``h(k)`` per run, ``(B,)`` in [0, 1].
    """
    if k < 0:
        return np.zeros_like(profile.onset)
    ramp = np.minimum(1.0, (k + 1) / (profile.onset + 1.0))
    late = np.maximum(0.0, k - profile.onset - profile.persistence)
    level: FloatArray = ramp * (1.0 - profile.decay) ** late
    return level


def shock_factor(k: int, magnitude: FloatArray, profile: ShockProfile) -> FloatArray:
    """The factor month ``k`` of a shock applies to its variable: ``(1 + m h(k)) / (1 + m h(k-1))``.

    So the variable is the level it would have had without the shock times ``1 + m h(k)``
    (clipping to the variable's bounds aside). A shock that has wiped the variable out
    (``1 + m h(k - 1) = 0``) stays: the factor is then 1.

    Args:
        k: Months since the event's month.
        magnitude: ``(B,)`` magnitudes.
        profile: The shock's profile.

    Returns:
        ``(B,)`` factors.
    """
    now = 1.0 + magnitude * shock_level(k, profile)
    before = 1.0 + magnitude * shock_level(k - 1, profile)
    safe = np.where(before > 0.0, before, 1.0)
    factor: FloatArray = np.where(before > 0.0, now / safe, 1.0)
    return factor


def rerouted_energy(energy0: FloatArray, routes: FloatArray) -> FloatArray:
    """The energy and transit dependence each state relaxes to, with its new routes.

    A route through power ``p`` carries share ``r_sp`` of what the state ships through the other
    powers: ``L_sp = D0_sp (1 - min(1, sum_{q != p} r_sq)) + r_sp sum_{q != p} D0_sq``, clipped
    to [0, 1]; what leaves the incumbents arrives at the new route (before clipping the total is
    kept). Without routes ``L = D0`` exactly.

    Args:
        energy0: Initial energy and transit dependence, ``(B, S, P)``.
        routes: ``(B, S, P)``.

    Returns:
        ``(B, S, P)``.
    """
    others = np.minimum(routes.sum(axis=-1, keepdims=True) - routes, 1.0)
    elsewhere = energy0.sum(axis=-1, keepdims=True) - energy0
    level: FloatArray = np.clip(energy0 * (1.0 - others) + routes * elsewhere, 0.0, 1.0)
    return level


def move_shock(
    state: WorldState,
    kind: str,
    actors: list[int],
    targets: list[int],
    variable: str | None,
    magnitude: FloatArray,
    k: int,
    profile: ShockProfile | None,
) -> None:
    """Month ``k`` of a shock, sanctions or a route, in place (``k = 0``: the event fires).

    A power shock multiplies the actors' ``variable`` by :func:`shock_factor` (``1 + m h(0)``
    when it fires). Sanctions of bite ``m`` multiply the targets' budget factor by the factor of
    a shock of ``-m`` and set the bite of each actor's sanctions on each target to
    ``m h(k)`` (``state.sanctions``, kept in [0, 1]). A route of share ``m`` sets the share of
    each target state's energy and transit that routes through each actor carry to ``m h(k)``
    (``state.routes``, kept in [0, 1]; :func:`rerouted_energy`). Without a profile the event
    acts whole when it fires and never again (``h = 1``).

    Args:
        state: State to modify in place.
        kind: ``power_shock``, ``sanctions`` or ``route``.
        actors: The acting powers.
        targets: The sanctioned powers (``sanctions``) or the states the route serves
            (``route``).
        variable: The power shock's variable.
        magnitude: ``(B,)`` magnitudes.
        k: Months since the event's month.
        profile: Its time profile, if any.
    """
    if profile is None and k > 0:
        return
    if profile is None:
        level, before = np.ones_like(magnitude), np.zeros_like(magnitude)
    else:
        level, before = shock_level(k, profile), shock_level(k - 1, profile)
    step = (magnitude * (level - before))[:, None, None]
    runs = range(len(magnitude))
    if kind == "route":
        grid = np.ix_(runs, targets, actors)
        state.routes[grid] = np.clip(state.routes[grid] + step, 0.0, 1.0)
        return
    signed = magnitude if kind == "power_shock" else -magnitude
    factor = 1.0 + signed if profile is None else shock_factor(k, signed, profile)
    if kind == "power_shock":
        if variable is None:
            raise ValueError("a power_shock event needs a variable")
        scale_power(state, actors, variable, factor)
        return
    scale_power(state, targets, "budget", factor)
    grid = np.ix_(runs, actors, targets)
    state.sanctions[grid] = np.clip(state.sanctions[grid] + step, 0.0, 1.0)


def scale_power(state: WorldState, actors: list[int], variable: str, factor: FloatArray) -> None:
    """Multiply a power variable of the actor powers by ``factor`` in place, within its bounds.

    Args:
        state: State to modify in place.
        actors: Power indices.
        variable: ``credibility``, ``military_capacity``, ``attention`` (kept in [0, 1]) or
            ``budget`` (the budget factor, kept >= 0).
        factor: ``(B,)`` factors.
    """
    name = {"budget": "budget_factor", "military_capacity": "capacity"}.get(variable, variable)
    arr = getattr(state, name)
    arr[:, actors] = np.maximum(arr[:, actors] * factor[:, None], 0.0)
    if name != "budget_factor":
        np.clip(arr, 0.0, 1.0, out=arr)


def apply_event(
    state: WorldState,
    params: Params,
    kind: str,
    actors: list[int],
    targets: list[int],
    magnitude: FloatArray,
    variable: str | None = None,
    profile: ShockProfile | None = None,
) -> list[Answer]:
    """Apply one event in place.

    Rules (``m`` is the magnitude, per run ``(B,)``):

    - ``power_shock``: the actor powers' ``variable`` is multiplied by ``1 + m h(0)``
      (credibility, capacity and attention clipped to [0, 1]; budget factor kept >= 0), where
      ``h`` is the shock's time profile (:func:`shock_level`; ``h(0) = 1`` without one); in the
      months after, :func:`shock_factor` moves it along the profile (:func:`move_shock`).
    - ``sanctions``: the target powers' budget factor is multiplied by ``1 - m h(0)`` and the
      bite of each actor's sanctions on each target is set to ``m h(0)``; both follow the
      profile after (:func:`move_shock`), and each state decides its stance toward them
      (:func:`choose_sanctions_stance`).
    - ``route``: the share of each target state's energy and transit dependence on the other
      powers that routes through the actors carry becomes ``m h(0)`` and follows the profile
      after (:func:`move_shock`); energy dependence relaxes toward the rerouted level
      (:func:`rerouted_energy`).
    - ``crisis``: the actor state's insecurity rises by ``m``; it decides whom to ask for help,
      or nobody (:func:`choose_request`), and the asked power decides whether to answer
      (:func:`answer_requests`, which also applies what follows from the answer).
    - ``security_request``: as ``crisis``, but the scenario fixes whom the state asks: every
      target power (a counterfactual such as "what if it had asked China").
    - ``border_conflict``: both states' insecurity rises by ``m``; each decides whom to ask, as
      in a crisis, and a power asked by both sides backs at most one of them.
    - ``threat``: targets' threat from the actor rises by ``m * exposure``, trust falls by share
      ``trust_loss * m * exposure``.
    - ``summit``: targets' trust in the actor moves by ``trust_gain * m`` (nudge, signed).
    - ``aid_package`` / ``arms_deal``: the actor offers each target ``m`` USD million; each
      target decides whether to accept (:func:`accept_offer`), and an accepted package lands
      this month on top of the actor's aid / security spending toward it.
    - ``diplomatic_signal``: the actor states' trust in the targets moves by ``m`` (nudge).
    - ``institutional``: the actor states' institutional tie to the targets moves by ``m``.

    Args:
        state: State to modify in place.
        params: Fixed parameters.
        kind: Event type (see ``sim.input.scenario.EVENT_RULES``).
        actors: Indices of the acting powers or states.
        targets: Indices of the target powers or states.
        magnitude: ``(B,)`` magnitudes.
        variable: For ``power_shock``, which power variable.
        profile: For ``power_shock`` and ``sanctions``, its time profile (none: at full effect
            at once, for ever).

    Returns:
        The decisions the event led to: the calls for help (``crisis``, ``security_request``,
        ``border_conflict``) in the order of the calling states, the answers to offers
        (``aid_package``, ``arms_deal``) by power and then target; empty for other events.
    """
    m = np.asarray(magnitude, dtype=float)
    answers: list[Answer] = []
    if kind in ("power_shock", "sanctions", "route"):
        move_shock(state, kind, actors, targets, variable, m, 0, profile)
    elif kind in ("crisis", "security_request", "border_conflict"):
        for s in actors:
            state.insecurity[:, s] = np.clip(state.insecurity[:, s] + m, 0.0, 1.0)
        if kind == "security_request":  # the scenario says whom the state asks
            callers = [actors[0]] * len(targets)
            asked = [np.full(len(m), p, dtype=np.intp) for p in targets]
        else:  # each state decides whom to ask, all from the same state of the world
            callers = list(actors)
            asked = [choose_request(state, params, s, m) for s in callers]
        answers = answer_requests(state, params, callers, asked, m)
    elif kind == "threat":
        (p,) = actors
        for s in targets:
            exp = params.exposure[:, s, p]
            state.threat[:, s, p] = nudge(state.threat[:, s, p], m * exp)
            state.trust[:, s, p] = nudge(state.trust[:, s, p], -params.trust_loss * m * exp)
    elif kind == "summit":
        (p,) = actors
        for s in targets:
            state.trust[:, s, p] = nudge(state.trust[:, s, p], params.trust_gain * m)
    elif kind in ("aid_package", "arms_deal"):
        security = kind == "arms_deal"
        arr = state.extra_security if security else state.extra_aid
        offers = [
            (s, p, accept_offer(state, params, s, p, m, security)) for p in actors for s in targets
        ]  # every target answers from the state of the world before any package lands
        for s, p, ok in offers:
            arr[:, s, p] += np.where(ok, m, 0.0)
            state.offer[:, s, p] = np.where(ok, 1.0, -1.0)
            offerer = np.full(len(m), p, dtype=np.intp)
            answers.append(Answer(state=s, power=offerer, yes=ok, offer=True))
    elif kind in ("diplomatic_signal", "institutional"):
        arr = state.trust if kind == "diplomatic_signal" else state.membership
        for s in actors:
            for p in targets:
                arr[:, s, p] = nudge(arr[:, s, p], m)
    else:
        raise ValueError(f"unknown event type {kind!r}")
    return answers


def hedging_index(alignment: FloatArray) -> FloatArray:
    """Normalised entropy of each state's alignment profile over powers, in [0, 1].

    1 means equal alignment with every power (perfect hedging), 0 alignment with one power only.
    A state aligned with no power at all counts as perfectly hedged.

    Args:
        alignment: ``(..., P)``.

    Returns:
        ``(...)``.
    """
    n = alignment.shape[-1]
    if n < 2:
        return np.zeros(alignment.shape[:-1])
    total = alignment.sum(axis=-1, keepdims=True)
    share = np.divide(alignment, total, out=np.full_like(alignment, 1.0 / n), where=total > 0)
    logs = np.log(share, out=np.zeros_like(share), where=share > 0)
    hedging: FloatArray = -(share * logs).sum(axis=-1) / np.log(n)
    return hedging
