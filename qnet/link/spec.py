"""Elementary heralded links: their physical parameters (:class:`LinkSpec`) read off a network.

A link is memory A - fibre - station - fibre - memory B. Per-arm efficiency
eta_i = emission_efficiency * conversion_efficiency * 10^(-alpha L_i / 10) * detector_efficiency;
memory i is stored t_i = 2 L_i / c (photon to the station, herald back); the attempt time is
T_att = max(prep_time_s) + 2 max(L_A, L_B) / c (``docs/conventions.md``).

:func:`link_spec` finds the station that joins two memory nodes (:func:`find_station`) and
derives the link's :class:`LinkSpec` (:func:`spec_from_hardware`); :func:`elementary_links`
lists every link of a network. :mod:`qnet.link.circuit` turns a spec into its circuit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, NamedTuple

from qnet.errors import ConfigError, NetworkError
from qnet.link.multiplexing import attempts_per_round, link_shares
from qnet.network.hardware import MAX_TIME_S, Fibre, MemoryNode, Station
from qnet.network.graph import DEFAULT_FIBRE_SPEED_KM_PER_S
from qnet.quantum import channels

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

    from qnet.network.graph import NetworkData

__all__ = [
    "LinkSpec",
    "ElementaryLink",
    "link_spec",
    "spec_from_hardware",
    "find_station",
    "link_attempts",
    "elementary_links",
    "MAX_ATTEMPT_TIME_S",
]

#: Longest attempt time accepted (s), ~3e22 years (:data:`qnet.network.hardware.MAX_TIME_S`): times are
#: floats, and the repeater chain multiplies attempt times by round counts (< 2^63) and sums them
#: over samples (< 2^31), which stays far from overflow (1e30 * 9.2e18 * 2.1e9 ~ 2e58).
MAX_ATTEMPT_TIME_S = MAX_TIME_S


@dataclass(frozen=True)
class LinkSpec:
    """Everything that determines one elementary link's circuits and timing (SI-like units).

    Built by :func:`link_spec` (or :func:`spec_from_hardware`); the fields ending in ``_a``
    belong to memory A's end of the link, ``_b`` to memory B's.

    Parameters
    ----------
    node_a, node_b : str
        The two memory nodes (A, B).
    station : str
        The heralding station between them.
    scheme : str
        ``"single_click"`` or ``"two_photon"``.
    length_a_km, length_b_km : float
        Fibre length of each arm (km).
    efficiency_a, efficiency_b : float
        Total per-arm efficiency eta (emission, conversion, fibre, detector), in [0, 1].
    bright_state_population_a, bright_state_population_b : float or None
        Bright-state population alpha of each node (``single_click`` only, else None).
    storage_time_a_s, storage_time_b_s : float
        How long each memory waits for the herald, 2 L / c (s).
    t2_a_s, t2_b_s, t1_a_s, t1_b_s : float
        Memory coherence and energy-relaxation times (s; ``inf``: no decay).
    decay_a, decay_b : str
        Dephasing law of each memory (``"exponential"`` or ``"gaussian"``).
    dark_count_probability : float
        Dark-count probability per detector per window.
    visibility : float
        Visibility of the scheme's interference, in [0, 1].
    phase_noise_rad : float
        Standard deviation of the optical phase (rad).
    attempt_time_s : float
        T_att, one round of attempts (s); > 0, at most :data:`MAX_ATTEMPT_TIME_S`, with 1/T_att finite.
    attempts_per_round : int, default 1
        k parallel attempts per round (:mod:`qnet.link.multiplexing`); the circuit is one
        attempt, the rate counts k of them.

    Raises
    ------
    ConfigError
        When ``attempt_time_s`` is not a time whose rate 1/T_att is finite.

    Examples
    --------
    >>> import qnet
    >>> spec = qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob")
    >>> spec.scheme, spec.length_a_km, round(spec.efficiency_a, 6), round(spec.attempt_time_s, 9)
    ('single_click', 5.0, 0.009532, 0.00043)
    """

    node_a: str
    node_b: str
    station: str
    scheme: str
    length_a_km: float
    length_b_km: float
    efficiency_a: float  # total per-arm efficiency eta_A (every lossy stage)
    efficiency_b: float
    bright_state_population_a: float | None  # alpha, single_click only
    bright_state_population_b: float | None
    storage_time_a_s: float  # 2 L_A / c
    storage_time_b_s: float
    t2_a_s: float
    t2_b_s: float
    t1_a_s: float
    t1_b_s: float
    decay_a: str
    decay_b: str
    dark_count_probability: float
    visibility: float
    phase_noise_rad: float
    attempt_time_s: float
    #: parallel attempts per round, k = min(memories of A, memories of B) for this link
    #: (:mod:`qnet.link.multiplexing`); the circuit is one attempt, the rate counts k of them
    attempts_per_round: int = 1

    def __post_init__(self) -> None:
        t = self.attempt_time_s
        if not (0.0 < t <= MAX_ATTEMPT_TIME_S and math.isfinite(1.0 / t)):  # also rejects NaN
            raise ConfigError(
                f"link {self.node_a}-{self.node_b}",
                "attempt_time_s",
                t,
                f"a time in seconds > 0 whose rate 1/T is finite, at most {MAX_ATTEMPT_TIME_S:g}",
            )

    @property
    def pair_coherence_time_s(self) -> float:
        """1/e time of the stored pair's coherence with both memories decaying (s).

        Examples
        --------
        >>> import qnet
        >>> spec = qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob")
        >>> round(spec.pair_coherence_time_s, 6)  # 1 / (2 / T2), T2 = 1.1 s
        0.55
        """
        return channels.pair_coherence_time(
            (self.t2_a_s, self.t1_a_s, self.decay_a), (self.t2_b_s, self.t1_b_s, self.decay_b)
        )

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict, in field order (all values are numbers, strings or None).

        Returns
        -------
        dict
            Field name -> value; the compiled circuit's ``metadata["spec"]``.

        Examples
        --------
        >>> import qnet
        >>> spec = qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob")
        >>> d = spec.to_dict()
        >>> list(d)[:4], d["visibility"], d["attempts_per_round"]
        (['node_a', 'node_b', 'station', 'scheme'], 0.97, 1)
        """
        return {name: getattr(self, name) for name in _SPEC_FIELDS}


_SPEC_FIELDS = tuple(f.name for f in fields(LinkSpec))


class ElementaryLink(NamedTuple):
    """One elementary link of a network: memory A - station - memory B (:func:`elementary_links`).

    Examples
    --------
    >>> link = ElementaryLink("alice", "bob", "station")
    >>> link.station, tuple(link)
    ('station', ('alice', 'bob', 'station'))
    """

    node_a: str
    node_b: str
    station: str


def find_station(graph: "nx.Graph | NetworkData", a: str, b: str, station: str | None = None) -> str:
    """Name of the station that joins memory nodes ``a`` and ``b`` by fibres.

    Parameters
    ----------
    graph : networkx.Graph or NetworkData
        A network (:func:`qnet.load_network`), or its validated data
        (:func:`qnet.network.graph.network_data`: the same node and adjacency layout).
    a, b : str
        Two different memory nodes.
    station : str, optional
        The station to use when ``a`` and ``b`` share several; checked when given.

    Returns
    -------
    str
        The station's name.

    Raises
    ------
    NetworkError
        When a node is unknown or a station, ``a == b``, no station joins them, several do and
        ``station`` is not given, or ``station`` does not join them.

    Examples
    --------
    >>> import qnet
    >>> g = qnet.load_network("examples/liu2026_ion_link.toml")
    >>> find_station(g, "alice", "bob")
    'station'
    >>> find_station(g, "alice", "station")
    Traceback (most recent call last):
    ...
    qnet.errors.NetworkError: node 'station' is a station; a link joins two memory nodes
    """
    nodes, adj = graph.nodes, graph.adj
    for node in (a, b):
        if node not in nodes:
            raise NetworkError(f"unknown node {node!r} (nodes: {', '.join(sorted(map(str, nodes)))})")
        if not isinstance(nodes[node]["hardware"], MemoryNode):
            raise NetworkError(f"node {node!r} is a station; a link joins two memory nodes")
    if a == b:
        raise NetworkError(f"a link needs two different memory nodes, got {a!r} twice")
    stations = sorted(s for s in adj[a].keys() & adj[b].keys() if isinstance(nodes[s]["hardware"], Station))
    if station is not None:
        if station not in stations:
            raise NetworkError(f"{station!r} is not a station joined by fibres to both {a!r} and {b!r}")
        return station
    if not stations:
        raise NetworkError(f"{a!r} and {b!r} are not an elementary link: no station is joined by fibres to both")
    if len(stations) > 1:
        raise NetworkError(f"{a!r} and {b!r} share several stations ({', '.join(stations)}); name one")
    return stations[0]


def link_spec(graph: nx.Graph, a: str, b: str, station: str | None = None) -> LinkSpec:
    """Derive the physical parameters of the elementary link ``a`` - station - ``b``.

    Parameters
    ----------
    graph : networkx.Graph
        A network (:func:`qnet.load_network`).
    a, b : str
        The memory nodes at ends A and B.
    station : str, optional
        The station, when ``a`` and ``b`` share several (:func:`find_station`).

    Returns
    -------
    LinkSpec

    Raises
    ------
    NetworkError
        When ``a`` and ``b`` are not an elementary link (:func:`find_station`).
    ConfigError
        When a field the link needs is missing or the attempt time is out of range
        (:func:`spec_from_hardware`).

    Examples
    --------
    >>> import qnet
    >>> spec = link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob")
    >>> spec.station, spec.storage_time_a_s  # 2 x 5 km at 2e5 km/s
    ('station', 5e-05)
    """
    s = find_station(graph, a, b, station)
    return spec_from_hardware(
        a,
        b,
        s,
        graph.nodes[s]["hardware"],
        graph.nodes[a]["hardware"],
        graph.nodes[b]["hardware"],
        graph.edges[a, s]["fibre"],
        graph.edges[b, s]["fibre"],
        graph.graph.get("fibre_speed_km_per_s", DEFAULT_FIBRE_SPEED_KM_PER_S),
    )


def spec_from_hardware(
    a: str,
    b: str,
    s: str,
    st: Station,
    mem_a: MemoryNode,
    mem_b: MemoryNode,
    fib_a: Fibre,
    fib_b: Fibre,
    c: float,
    transmissions: tuple[float, float] | None = None,
) -> LinkSpec:
    """The :class:`LinkSpec` of ``a`` - ``s`` - ``b`` from the hardware objects themselves.

    :func:`link_spec` is this after finding the station and reading the objects off the graph;
    a sweep that replaces only the objects a point changes calls it directly (same checks,
    same errors, same numbers).

    Parameters
    ----------
    a, b, s : str
        Names of memory A, memory B and the station.
    st : Station
        The station's hardware.
    mem_a, mem_b : MemoryNode
        The memories' hardware.
    fib_a, fib_b : Fibre
        The fibres memory A - station and memory B - station.
    c : float
        Speed of light in fibre (km/s).
    transmissions : tuple of float, optional
        The fibres' :func:`qnet.quantum.channels.fibre_transmission` values, when the caller
        has them already.

    Returns
    -------
    LinkSpec

    Raises
    ------
    ConfigError
        When a ``single_click`` node has no ``bright_state_population``, or the attempt time
        is too long (naming the field that makes it so) or too short to have a finite rate.

    Examples
    --------
    >>> import qnet
    >>> g = qnet.load_network("examples/liu2026_ion_link.toml")
    >>> hw = lambda n: g.nodes[n]["hardware"]
    >>> fibre = lambda n: g.edges[n, "station"]["fibre"]
    >>> spec = spec_from_hardware("alice", "bob", "station", hw("station"), hw("alice"), hw("bob"),
    ...                           fibre("alice"), fibre("bob"), 2.0e5)
    >>> spec == link_spec(g, "alice", "bob")
    True
    """
    if st.scheme == "single_click":
        for n, mem in ((a, mem_a), (b, mem_b)):
            if mem.bright_state_population is None:
                raise ConfigError(
                    f"nodes.{n}",
                    "bright_state_population",
                    None,
                    f"required field is missing: station {s!r} uses the single_click scheme, which needs it",
                )
    if transmissions is None:
        transmissions = (
            channels.fibre_transmission(fib_a.length_km, fib_a.attenuation_db_per_km),
            channels.fibre_transmission(fib_b.length_km, fib_b.attenuation_db_per_km),
        )
    det = st.detector_efficiency
    eff_a = mem_a.emission_efficiency * mem_a.conversion_efficiency * transmissions[0] * det
    eff_b = mem_b.emission_efficiency * mem_b.conversion_efficiency * transmissions[1] * det
    storage = (2.0 * (fib_a.length_km / c), 2.0 * (fib_b.length_km / c))  # = 2 L / c, without overflowing 2 L
    attempt = _attempt_time(a, b, (mem_a, mem_b), (fib_a, fib_b), storage, c)
    return LinkSpec(
        a,
        b,
        s,
        st.scheme,
        fib_a.length_km,
        fib_b.length_km,
        eff_a,
        eff_b,
        mem_a.bright_state_population,
        mem_b.bright_state_population,
        storage[0],
        storage[1],
        mem_a.t2_s,
        mem_b.t2_s,
        mem_a.t1_s,
        mem_b.t1_s,
        mem_a.decay,
        mem_b.decay,
        st.dark_count_probability,
        st.visibility,
        st.phase_noise_rad,
        attempt,
        attempts_per_round=link_attempts(a, mem_a, b, mem_b, s),
    )


def _attempt_time(a: str, b: str, mems: tuple, fibs: tuple, storage: tuple[float, float], c: float) -> float:
    """T_att = max(prep_time_s) + max(2 L / c), refused unless finite and the attempt rate 1/T_att too.

    An attempt time above :data:`MAX_ATTEMPT_TIME_S` (or infinite) names the field that makes
    it: the longer fibre's ``length_km`` when 2 L / c is that long, else the slower node's
    ``prep_time_s``. A zero one (or one so short that 1/T_att overflows: the rate would be
    infinite) names node ``a``'s ``prep_time_s`` and both fibres' lengths.
    """
    attempt = max(m.prep_time_s for m in mems) + max(storage)
    if not attempt <= MAX_ATTEMPT_TIME_S:
        if not max(storage) <= MAX_ATTEMPT_TIME_S:
            longer = max(fibs, key=lambda f: f.length_km)
            raise ConfigError(
                f"fibres.{longer.name}",
                "length_km",
                longer.length_km,
                f"too long: the link {a}-{b}'s attempt time 2 L / c (network.fibre_speed_km_per_s = {c:g}) is {max(storage):.3g} s, "
                f"above the {MAX_ATTEMPT_TIME_S:g} s qnet can time",
            )
        slow = max(mems, key=lambda m: m.prep_time_s)
        raise ConfigError(
            f"nodes.{slow.name}",
            "prep_time_s",
            slow.prep_time_s,
            f"too long: the link {a}-{b}'s attempt time is {attempt:.3g} s, above the {MAX_ATTEMPT_TIME_S:g} s qnet can time",
        )
    if not (attempt > 0.0 and math.isfinite(1.0 / attempt)):
        lengths = ", ".join(f"fibres.{f.name}.length_km = {f.length_km:g}" for f in fibs)
        preps = ", ".join(f"nodes.{m.name}.prep_time_s = {m.prep_time_s:g}" for m in mems)
        raise ConfigError(
            f"nodes.{a}",
            "prep_time_s",
            mems[0].prep_time_s,
            f"the link {a}-{b} has attempt time {attempt:.3g} s ({preps}; {lengths}), so its rate would be "
            "infinite; give prep_time_s > 0 or a fibre length > 0",
        )
    return attempt


def link_attempts(a: str, mem_a: MemoryNode, b: str, mem_b: MemoryNode, station: str = "") -> int:
    """k of a link taken alone: each end gives it all its memories, or its ``memory_split`` share (:mod:`qnet.link.multiplexing`).

    Parameters
    ----------
    a, b : str
        Names of the two memory nodes (for error messages).
    mem_a, mem_b : MemoryNode
        Their hardware; ``memories`` None counts as one.
    station : str
        The link's station (a node's ``memory_split`` may list it).

    Returns
    -------
    int
        min(memories of A, memories of B).

    Examples
    --------
    >>> import qnet
    >>> g = qnet.load_network("examples/liu2026_ion_link.toml", ["nodes.alice.memories=3", "nodes.bob.memories=2"])
    >>> link_attempts("alice", g.nodes["alice"]["hardware"], "bob", g.nodes["bob"]["hardware"])
    2
    """
    return attempts_per_round(
        *(link_shares(n, m.memories, m.memory_split, [station])[station] for n, m in ((a, mem_a), (b, mem_b)))
    )


def elementary_links(graph: nx.Graph) -> list[ElementaryLink]:
    """Every (memory A, memory B, station) joined memory - fibre - station - fibre - memory.

    Parameters
    ----------
    graph : networkx.Graph
        A network (:func:`qnet.load_network`).

    Returns
    -------
    list of ElementaryLink
        Sorted; memory A before memory B in name order, one entry per station that joins them.

    Examples
    --------
    >>> import qnet
    >>> elementary_links(qnet.load_network("examples/liu2026_ion_link.toml"))
    [ElementaryLink(node_a='alice', node_b='bob', station='station')]
    """
    out = []
    for s, data in graph.nodes(data=True):
        if not isinstance(data["hardware"], Station):
            continue
        mems = sorted(n for n in graph.neighbors(s) if isinstance(graph.nodes[n]["hardware"], MemoryNode))
        out += [ElementaryLink(a, b, s) for i, a in enumerate(mems) for b in mems[i + 1 :]]
    return sorted(out)
