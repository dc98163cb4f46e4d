"""What ``qnet requirements`` may improve, how, and what it must reach: improvement factors and targets.

An **improvement factor** k >= 1 moves one hardware parameter in its physical direction, after
da Silva et al. (Quantum Sci. Technol. 6, 035007 (2021), arXiv:2010.16373) and Avis et al.
(npj Quantum Inf. 9, 100 (2023), doi:10.1038/s41534-023-00765-x): the parameter's *probability of no
imperfection* q is raised to the power 1/k, so k = 1 is today's hardware and k -> inf is perfect
hardware. Per field (:data:`RULES`):

* ``probability`` (emission, conversion and detector efficiency, visibility, gate and readout
  fidelity): p -> p^(1/k);
* ``error`` (dark_count_probability): the no-error probability 1 - p -> (1 - p)^(1/k);
* ``time`` (t2_s, t1_s): T -> k T (the decay factor e^(-t/T) raised to 1/k);
* ``loss`` (attenuation_db_per_km): a -> a / k (the transmission per km raised to 1/k);
* ``phase`` (phase_noise_rad): sigma -> sigma / sqrt(k) (the coherence factor e^(-sigma^2/2) raised to 1/k);
* ``duration`` (prep_time_s): t -> t / k.

Parameters that trade one figure against another (bright_state_population, cutoff_s), are
integers (memories), set the round grid (swap_time_s) or are geometry (length_km) cannot be
"improved" and are refused.

A **variable** is one factor shared by the fields it names: ``nodes.*.t2_s`` is one factor for
the t2_s of every node on the route that has one (as da Silva et al. improve a parameter
type at once), ``nodes.r1.t2_s`` a factor of its own (r1 is then left out of any wildcard).

A **target** is ``FIGURE>=VALUE`` or ``FIGURE<=VALUE`` on a figure of the end-to-end pair
(:data:`TARGET_FIGURES`).

Only the standard library is imported at module level.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Sequence

from qnet.errors import QnetError
from qnet.link.results import DELIVERED_STATE_FIELDS
from qnet.network.fields import FieldPath

__all__ = [
    "RULES",
    "TARGET_FIGURES",
    "DEFAULT_MAX_FACTOR",
    "ImproveSpec",
    "Variable",
    "Target",
    "parse_improve",
    "parse_target",
    "improved_value",
    "expand_variables",
]

#: How each improvable field changes with the improvement factor k (module docstring).
RULES = {
    "t2_s": "time",
    "t1_s": "time",
    "emission_efficiency": "probability",
    "conversion_efficiency": "probability",
    "detector_efficiency": "probability",
    "visibility": "probability",
    "gate_fidelity": "probability",
    "readout_fidelity": "probability",
    "dark_count_probability": "error",
    "phase_noise_rad": "phase",
    "prep_time_s": "duration",
    "attenuation_db_per_km": "loss",
}
#: Figures of the end-to-end pair a target may constrain (``qnet chain --json`` names).
TARGET_FIGURES = (
    "fidelity",
    "rate_hz",
    "mean_completion_time_s",
    *DELIVERED_STATE_FIELDS,
)
#: The largest improvement factor of a variable unless the user gives one.
DEFAULT_MAX_FACTOR = 100.0

_REFUSED = {
    "bright_state_population": "it trades rate against fidelity (use qnet optimize)",
    "cutoff_s": "it is a policy, not hardware quality (sweep it)",
    "swap_time_s": "it sets the round grid of the exact chain (sweep it)",
    "memories": "it is an integer (sweep it)",
    "length_km": "it is geometry, not hardware quality",
    "fibre_speed_km_per_s": "it is geometry, not hardware quality",
}


def improved_value(rule: str, value: float, k: float) -> float:
    """The value of a field of rule ``rule`` after improving ``value`` by the factor ``k`` >= 1.

    Parameters
    ----------
    rule : str
        A :data:`RULES` value.
    value : float
        Today's value (its unit is the field's).
    k : float
        The improvement factor (>= 1; 1 leaves the value unchanged).

    Returns
    -------
    float

    Examples
    --------
    >>> improved_value("time", 2.0, 10.0), improved_value("probability", 0.25, 2.0)
    (20.0, 0.5)
    >>> round(improved_value("error", 0.19, 2.0), 12), improved_value("phase", 0.2, 4.0)
    (0.1, 0.1)
    """
    if rule == "time":
        return value * k
    if rule == "probability":
        return value ** (1.0 / k)
    if rule == "error":  # 1 - (1 - p)^(1/k), exact for small p; p = 1 (nothing but errors) stays 1
        return 1.0 if value >= 1.0 else -math.expm1(math.log1p(-value) / k)
    if rule == "phase":
        return value / math.sqrt(k)
    if rule in ("loss", "duration"):
        return value / k
    raise ValueError(f"unknown rule {rule!r}")


def _fixed(rule: str, value: float) -> str | None:
    """Why no factor can change ``value`` ("already ideal", or a probability 0 or 1 that the rule keeps), else None."""
    if rule == "time":
        return "already ideal" if math.isinf(value) else None
    if rule == "probability":
        return "already ideal" if value >= 1.0 else ("0, which p^(1/k) keeps at 0" if value <= 0.0 else None)
    if rule == "error" and value >= 1.0:
        return "1, which 1 - (1 - p)^(1/k) keeps at 1"
    return "already ideal" if value <= 0.0 else None


@dataclass(frozen=True)
class ImproveSpec:
    """One ``--improve`` entry as written: a field key (a wildcard ``*`` as name allowed) and its largest factor.

    Examples
    --------
    >>> parse_improve("nodes.*.t2_s:1000,nodes.r1.gate_fidelity")
    (ImproveSpec(key='nodes.*.t2_s', max_factor=1000.0), ImproveSpec(key='nodes.r1.gate_fidelity', max_factor=None))
    """

    key: str
    max_factor: float | None = None


def parse_improve(text: str) -> tuple[ImproveSpec, ...]:
    """``FIELD[:KMAX][,FIELD[:KMAX]...]`` -> the entries (``qnet requirements --improve``).

    FIELD is ``nodes.NAME.FIELD``, ``nodes.*.FIELD``, ``fibres.NAME.FIELD`` or
    ``fibres.*.FIELD``; KMAX the largest improvement factor of that variable (> 1).

    Parameters
    ----------
    text : str
        The option's text.

    Returns
    -------
    tuple of ImproveSpec

    Raises
    ------
    QnetError
        One line naming the entry: a malformed key, a field that cannot be improved, a bad KMAX.

    Examples
    --------
    >>> [s.key for s in parse_improve("nodes.*.t2_s, fibres.*.attenuation_db_per_km")]
    ['nodes.*.t2_s', 'fibres.*.attenuation_db_per_km']
    >>> parse_improve("nodes.*.length_km")
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: --improve nodes.*.length_km: length_km cannot be improved: it is geometry, not hardware quality
    """
    out = []
    for part in (p.strip() for p in str(text).split(",")):
        if not part:
            raise QnetError(f"--improve {text!r}: an empty entry; expected FIELD[:KMAX][,FIELD[:KMAX]...]")
        key, _, kmax = part.partition(":")
        key = key.strip()
        path = FieldPath.parse(key, context=f"--improve {part}")
        if path.section == "network" or path.key is not None:
            raise QnetError(
                f"--improve {part}: improvable fields are nodes.NAME.FIELD or fibres.NAME.FIELD (NAME may be *)"
            )
        if path.field not in RULES:
            why = _REFUSED.get(path.field)
            if why:
                raise QnetError(f"--improve {part}: {path.field} cannot be improved: {why}")
            raise QnetError(
                f"--improve {part}: unknown improvable field {path.field!r}; allowed: {', '.join(sorted(RULES))}"
            )
        factor = None
        if kmax.strip():
            try:
                factor = float(kmax)
            except ValueError:
                factor = math.nan
            if not (1.0 < factor < math.inf):
                raise QnetError(
                    f"--improve {part}: the largest factor {kmax.strip()!r} is invalid: a finite number > 1"
                )
        out.append(ImproveSpec(key, factor))
    return tuple(out)


@dataclass(frozen=True)
class Variable:
    """One improvement factor and the fields it moves (with their values today).

    Parameters
    ----------
    name : str
        As the user wrote it (``nodes.*.t2_s`` or ``nodes.r1.t2_s``).
    rule : str
        A :data:`RULES` value.
    fields : tuple of str
        The concrete keys (``nodes.r1.t2_s``, ...).
    baseline : tuple of float
        Each field's value today.
    max_factor : float
        The largest factor searched (> 1).
    weight : float
        The variable's weight in the cost (> 0).

    Examples
    --------
    >>> v = Variable("nodes.*.t2_s", "time", ("nodes.a.t2_s", "nodes.b.t2_s"), (1.0, 2.0), 100.0)
    >>> v.values(3.0)
    (3.0, 6.0)
    """

    name: str
    rule: str
    fields: tuple[str, ...]
    baseline: tuple[float, ...]
    max_factor: float = DEFAULT_MAX_FACTOR
    weight: float = 1.0

    def values(self, k: float) -> tuple[float, ...]:
        """Each field's value at factor ``k``."""
        return tuple(improved_value(self.rule, v, k) for v in self.baseline)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "name": self.name,
            "rule": self.rule,
            "fields": list(self.fields),
            "baseline": list(self.baseline),
            "max_factor": self.max_factor,
            "weight": self.weight,
        }


def _route_items(graph: Any, hops: Sequence[Any]) -> tuple[list[str], list[tuple[str, Any]]]:
    """(route node names in order, stations included; [(fibre name, Fibre)] in route order)."""
    nodes: list[str] = []
    fibres: list[tuple[str, Any]] = []
    for a, b, s in hops:
        for n in (a, s, b):
            if n not in nodes:
                nodes.append(n)
        for u, v in ((a, s), (s, b)):
            f = graph.edges[u, v]["fibre"]
            fibres.append((f.name, f))
    return nodes, fibres


def expand_variables(
    graph: Any,
    hops: Sequence[Any],
    specs: Sequence[ImproveSpec],
    max_factor: float = DEFAULT_MAX_FACTOR,
    weights: dict[str, float] | None = None,
) -> tuple[Variable, ...]:
    """The variables of ``specs`` on the route ``hops`` of ``graph`` (wildcards shared, named fields individual).

    A wildcard covers the route's nodes (memories and stations) or fibres that have the field
    and are not already perfect (:func:`improved_value` could not change them), minus those a
    named entry improves on its own.

    Parameters
    ----------
    graph : networkx.Graph
        The validated network.
    hops : sequence of (a, b, station)
        The route.
    specs : sequence of ImproveSpec
        From :func:`parse_improve`.
    max_factor : float
        The largest factor of an entry that gives none.
    weights : dict, optional
        Cost weight per variable name (default 1).

    Returns
    -------
    tuple of Variable

    Raises
    ------
    QnetError
        A named node or fibre not on the route, a field it does not have, a field that is already
        perfect, a wildcard that matches nothing, a variable named twice, an unknown weight name.

    Examples
    --------
    >>> import qnet
    >>> from qnet.repeater.path import path_hops
    >>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> hops = path_hops(graph, ["alice", "r1", "r2"])
    >>> [(v.name, v.fields) for v in expand_variables(graph, hops, parse_improve("nodes.*.t2_s,nodes.r1.t2_s"))]
    [('nodes.*.t2_s', ('nodes.alice.t2_s', 'nodes.r2.t2_s')), ('nodes.r1.t2_s', ('nodes.r1.t2_s',))]
    """
    if not specs:
        raise QnetError("--improve: name at least one field to improve")
    names = [s.key for s in specs]
    for n in names:
        if names.count(n) > 1:
            raise QnetError(f"--improve {n}: named twice")
    nodes, fibres = _route_items(graph, hops)
    individual = {s.key for s in specs if FieldPath.parse(s.key).name != "*"}
    out = []
    for spec in specs:
        path = FieldPath.parse(spec.key)
        rule = RULES[path.field]
        if path.section == "nodes":
            items = (
                [(n, graph.nodes[n]["hardware"]) for n in nodes]
                if path.name == "*"
                else _named_node(graph, nodes, spec.key, path)
            )
        else:
            items = list(dict(fibres).items()) if path.name == "*" else _named_fibre(fibres, spec.key, path)
        fields, baseline = [], []
        for name, obj in items:
            key = f"{path.section}.{name}.{path.field}"
            if path.name == "*" and key in individual:
                continue
            value = getattr(obj, path.field, None)
            if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
                if path.name != "*":
                    raise QnetError(f"--improve {spec.key}: {name} has no numeric field {path.field!r}")
                continue
            why = _fixed(rule, float(value))
            if why is not None:
                if path.name != "*":
                    raise QnetError(f"--improve {spec.key}: its value {float(value):g} is {why} (no factor changes it)")
                continue
            fields.append(key)
            baseline.append(float(value))
        if not fields:
            raise QnetError(
                f"--improve {spec.key}: no {path.section[:-1]} on the route has a {path.field} that can be improved"
            )
        kmax = spec.max_factor if spec.max_factor is not None else float(max_factor)
        w = 1.0 if weights is None else float(weights.get(spec.key, 1.0))
        out.append(Variable(spec.key, rule, tuple(fields), tuple(baseline), kmax, w))
    for key in weights or {}:
        if key not in names:
            raise QnetError(f"--weight {key}: not an --improve entry ({', '.join(names)})")
    return tuple(out)


def _named_node(graph: Any, nodes: list[str], key: str, path: FieldPath) -> list[tuple[str, Any]]:
    if path.name not in graph:
        raise QnetError(f"--improve {key}: no node named {path.name!r} (nodes: {', '.join(sorted(map(str, graph)))})")
    if path.name not in nodes:
        raise QnetError(f"--improve {key}: node {path.name!r} is not on the route {' - '.join(nodes)}")
    return [(str(path.name), graph.nodes[path.name]["hardware"])]


def _named_fibre(fibres: list[tuple[str, Any]], key: str, path: FieldPath) -> list[tuple[str, Any]]:
    found = [(n, f) for n, f in fibres if n == path.name]
    if not found:
        raise QnetError(
            f"--improve {key}: no fibre named {path.name!r} on the route (fibres: {', '.join(n for n, _ in fibres)})"
        )
    return found[:1]


_TARGET = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=)\s*(\S+)\s*$")


@dataclass(frozen=True)
class Target:
    """``figure op value``: a requirement on the end-to-end pair.

    Examples
    --------
    >>> t = parse_target("rate_hz>=1")
    >>> t, t.margin(2.0), t.margin(0.5), str(t)
    (Target(figure='rate_hz', op='>=', value=1.0), 1.0, -0.5, 'rate_hz>=1')
    """

    figure: str
    op: str
    value: float

    def margin(self, v: float) -> float:
        """How far ``v`` is inside (> 0) or outside (< 0) the target, relative to the target's size.

        (v - value)/scale for >=, (value - v)/scale for <=; scale = |value|, or 1 for 0.
        NaN counts as -1 (the figure does not exist there: no pair, no key).
        """
        if v is None or math.isnan(v):
            return -1.0
        scale = abs(self.value) if self.value != 0 else 1.0
        d = (v - self.value) if self.op == ">=" else (self.value - v)
        return max(d / scale, -1e6) if math.isfinite(d) else (1e6 if d > 0 else -1e6)

    def __str__(self) -> str:
        return f"{self.figure}{self.op}{self.value:g}"


def parse_target(text: str) -> Target:
    """``FIGURE>=VALUE`` or ``FIGURE<=VALUE`` (``qnet requirements --target``).

    Parameters
    ----------
    text : str
        The option's text; FIGURE one of :data:`TARGET_FIGURES`.

    Returns
    -------
    Target

    Raises
    ------
    QnetError
        One line naming the option: malformed, an unknown figure, or a value that is not a finite number.

    Examples
    --------
    >>> parse_target("fidelity >= 0.9")
    Target(figure='fidelity', op='>=', value=0.9)
    >>> parse_target("fidelty>=0.9")
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: --target 'fidelty>=0.9': unknown figure 'fidelty'; one of fidelity, rate_hz, mean_completion_time_s, chsh, qber, diqkd_key_fraction, diqkd_key_rate_hz, bb84_key_fraction, bb84_key_rate_hz
    """
    m = _TARGET.match(str(text))
    if not m:
        raise QnetError(f"--target {text!r}: expected FIGURE>=VALUE or FIGURE<=VALUE (e.g. fidelity>=0.9)")
    figure, op, raw = m.groups()
    if figure not in TARGET_FIGURES:
        raise QnetError(f"--target {text!r}: unknown figure {figure!r}; one of {', '.join(TARGET_FIGURES)}")
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise QnetError(f"--target {text!r}: the value {raw!r} is invalid: a finite number")
    return Target(figure, op, value)
