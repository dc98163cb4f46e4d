"""The placement's inputs and records (:mod:`qnet.studies.placement`): demands, fibre maps, options, candidates, results.

:func:`read_demands` and :func:`read_map` read the inputs of ``qnet place``; :class:`Candidate`
is one chain that may serve a demand, :class:`Placement` the answer.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import networkx as nx

from qnet.errors import QnetError
from qnet.studies.placement_chain import ChainCheck

__all__ = [
    "Demand",
    "read_demands",
    "read_map",
    "Candidate",
    "PlacementOptions",
    "DemandPlan",
    "Placement",
    "PlacementError",
]


class PlacementError(QnetError):
    """A demand cannot be met, or not with at most ``max_repeaters`` repeaters (the message says which and the best found)."""


@dataclass(frozen=True)
class Demand:
    """Two map nodes that want entanglement, and what they need (0: no requirement).

    Examples
    --------
    >>> Demand("Amsterdam", "Maastricht", min_fidelity=0.8).label
    'Amsterdam-Maastricht'
    """

    a: str
    b: str
    min_fidelity: float = 0.0
    min_rate_hz: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.a}-{self.b}"

    def score(self, fidelity: float, rate_hz: float) -> float:
        """min(fidelity / target, rate / target) over the targets set (>= 1: met)."""
        parts = [fidelity / self.min_fidelity] if self.min_fidelity > 0 else []
        parts += [rate_hz / self.min_rate_hz] if self.min_rate_hz > 0 else []
        return min(parts, default=math.inf)

    def met(self, fidelity: float, rate_hz: float) -> bool:
        return fidelity >= self.min_fidelity and rate_hz >= self.min_rate_hz


_DEMAND_FIELDS = ("a", "b", "min_fidelity", "min_rate_hz")


def _target(where: str, key: str, value: Any, upper: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= upper or math.isinf(value):
        allowed = "a number in [0, 1]" if upper == 1.0 else "a finite number >= 0 (1/s)"
        raise QnetError(f"{where}.{key} = {value!r} is invalid: {allowed}")
    return float(value)


def read_demands(path: str | Path, nodes: Sequence[str] | None = None) -> tuple[Demand, ...]:
    """Read a demands file: ``[[demands]]`` tables (``a``, ``b``, ``min_fidelity``, ``min_rate_hz``), optional ``[defaults]``.

    Parameters
    ----------
    path : str or path-like
        The TOML file.
    nodes : sequence of str, optional
        The map's node names: every ``a``/``b`` must be one.

    Returns
    -------
    tuple of Demand

    Raises
    ------
    QnetError
        One line naming the demand, the field, the value and what is allowed.

    Examples
    --------
    >>> ds = read_demands("examples/maps/surfnet_demands.toml")
    >>> len(ds), ds[0].min_fidelity > 0
    (10, True)
    """
    where = f"demands file {str(path)!r}"
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QnetError(f"{where} not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise QnetError(f"{where} cannot be read: {exc}") from None
    for key in data:
        if key not in ("demands", "defaults"):
            raise QnetError(f"{where}: unknown table [{key}]; allowed: [defaults], [[demands]]")
    defaults = data.get("defaults", {})
    rows = data.get("demands")
    if not isinstance(defaults, dict):
        raise QnetError(f"{where}: [defaults] must be a table")
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise QnetError(f"{where}: needs at least one [[demands]] table (a, b, min_fidelity, min_rate_hz)")
    known = set(nodes) if nodes is not None else None
    out, seen = [], set()
    for i, row in enumerate(rows):
        w = f"demands[{i}]"
        row = {**defaults, **row}
        for key in row:
            if key not in _DEMAND_FIELDS:
                raise QnetError(f"{w}.{key}: unknown field; allowed: {', '.join(_DEMAND_FIELDS)}")
        for key in ("a", "b"):
            if not isinstance(row.get(key), str):
                raise QnetError(f"{w}.{key} = {row.get(key)!r} is invalid: a node name of the map")
            if known is not None and row[key] not in known:
                raise QnetError(f"{w}.{key} = {row[key]!r}: no such node on the map")
        if row["a"] == row["b"]:
            raise QnetError(f"{w}: a = b = {row['a']!r}; a demand joins two different nodes")
        pair = frozenset((row["a"], row["b"]))
        if pair in seen:
            raise QnetError(f"{w}: {row['a']} - {row['b']} is listed twice")
        seen.add(pair)
        out.append(
            Demand(
                row["a"],
                row["b"],
                _target(w, "min_fidelity", row.get("min_fidelity", 0.0), 1.0),
                _target(w, "min_rate_hz", row.get("min_rate_hz", 0.0), math.inf),
            )
        )
    return tuple(out)


def read_map(path: str | Path, detour_factor: float = 1.0, largest_component: bool = False) -> nx.Graph:
    """A fibre map (GraphML or GML, :func:`qnet.network.importers.read_topology`), named by label, lengths times ``detour_factor``.

    A GML file whose nodes all have distinct ``label``\\ s (the Internet Topology Zoo's) is
    named by them (made safe as the importer does) instead of by its numeric ids.

    Examples
    --------
    >>> g = read_map("examples/maps/Surfnet.gml")
    >>> g.number_of_nodes(), g.number_of_edges(), round(g.edges["Amsterdam", "Utrecht"]["length_km"], 1)
    (50, 68, 35.2)
    >>> round(read_map("examples/maps/Surfnet.gml", 1.5).edges["Amsterdam", "Utrecht"]["length_km"], 2)
    52.87
    """
    from qnet.network.importers import read_topology

    if (
        isinstance(detour_factor, bool)
        or not isinstance(detour_factor, (int, float))
        or not 1.0 <= detour_factor < math.inf
    ):
        raise QnetError(
            f"--detour-factor {detour_factor!r} is invalid: a number >= 1 (fibre length / great-circle length)"
        )
    g = read_topology(path, largest_component=largest_component)
    suffix = Path(path).suffix.lower()
    raw = nx.read_gml(path, label="id") if suffix == ".gml" else nx.read_graphml(path)
    g.graph["lonlat"] = all("Latitude" in d and "Longitude" in d for _n, d in raw.nodes(data=True))
    if suffix == ".gml":
        labels = {re.sub(r"[^\w-]", "_", str(k), flags=re.ASCII): d.get("label") for k, d in raw.nodes(data=True)}
        names = {k: re.sub(r"[^\w-]", "_", str(v), flags=re.ASCII) for k, v in labels.items() if isinstance(v, str)}
        if len(names) == len(labels) and len(set(names.values())) == len(names):
            g = nx.relabel_nodes(g, {k: v for k, v in names.items() if k in g})
    for _u, _v, d in g.edges(data=True):
        d["length_km"] = d["length_km"] * float(detour_factor)
    g.graph["detour_factor"] = float(detour_factor)
    return g


@dataclass(frozen=True)
class Candidate:
    """One way to serve a demand: a route through the map cut into segments at ``repeaters``.

    ``fidelity_bound`` and ``rate_bound_hz`` are the screen's upper bounds
    (:func:`qnet.studies.placement_chain.chain_bounds`).
    """

    demand: int
    route: tuple[str, ...]
    repeaters: tuple[str, ...]
    segments_km: tuple[float, ...]
    fidelity_bound: float
    rate_bound_hz: float

    @property
    def chain(self) -> tuple[str, ...]:
        """The chain's memory nodes: the demand's ends with the repeaters between them."""
        return (self.route[0], *self.repeaters, self.route[-1])


@dataclass(frozen=True)
class PlacementOptions:
    """Bounds and settings of a placement (defaults in brackets).

    paths [8]: routes per demand (shortest first); max_repeaters_per_path [6]: N_max;
    max_link_km [inf]: L_max, the longest segment; max_repeaters [None]: K, the most repeaters in
    all; sites [None]: the map nodes allowed to hold a repeater (default all but demand ends);
    samples [1000], seed [0]: the Monte Carlo of verification; link_backend ["batch"];
    max_candidates [50000]: per demand, the enumeration stops there (and says so);
    time_limit_s [60]: per MILP solve; end_repeaters [True]: a demand's end node may also be a
    repeater for the other demands (a repeater installed at a user's site; it counts as one);
    False keeps the paper's partition of end nodes and repeater sites.
    """

    paths: int = 8
    max_repeaters_per_path: int = 6
    max_link_km: float = math.inf
    max_repeaters: int | None = None
    sites: tuple[str, ...] | None = None
    samples: int = 1000
    seed: int | None = 0
    link_backend: str = "batch"
    max_candidates: int = 50_000
    time_limit_s: float = 60.0
    end_repeaters: bool = True


@dataclass(frozen=True)
class DemandPlan:
    """How a demand is served: the candidate chosen and qnet's chain model on it."""

    demand: Demand
    candidate: Candidate
    check: ChainCheck


@dataclass(frozen=True)
class Placement:
    """The result of :func:`~qnet.studies.placement.place`.

    ``status``: ``"optimal"`` (fewest repeaters over the enumerated candidates, every demand
    verified), ``"feasible"`` (a MILP hit its time limit, or the enumeration its
    ``max_candidates``: verified, fewest not proven) or
    ``"interrupted"`` (Ctrl-C: ``repeaters`` is the last MILP answer, ``plans`` the demands
    verified on it so far). ``lower_bound`` is the MILP's bound on the count.
    """

    repeaters: tuple[str, ...]
    plans: tuple[DemandPlan, ...]
    status: str
    lower_bound: int
    iterations: int
    candidates: int
    segments: int
    exhaustive: bool
    elapsed_s: float
    removed: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
