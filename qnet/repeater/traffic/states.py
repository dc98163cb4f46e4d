"""States of the pairs a traffic run delivered, from their recorded trees.

A bipartite delivery's tree is evaluated exactly as a chain's (:class:`qnet.repeater.chain.trees.TreeStates`
on the chain of its route); a GHZ delivery's three leg pairs are stored until the fusion and
fused at the hub (:func:`qnet.repeater.fusion.fuse`).
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np

from qnet.link.prepared import PreparedNetwork, prepare_network
from qnet.repeater.chain.linalg import default_swap_fn, fidelity_rows
from qnet.repeater.chain.trees import TreeStates
from qnet.repeater.path import assemble_chain
from qnet.repeater.routing import Hop

__all__ = ["delivered_fidelities"]


def _route_chain(
    graph: nx.Graph | PreparedNetwork,
    hops: Sequence[Hop],
    spec_of: dict,
    swap_policy: str,
    purify: str | None,
    twirl: bool,
):
    specs = [spec_of[tuple(h)][0] for h in hops]
    results = [spec_of[tuple(h)][1] for h in hops]
    mems = [1 if purify is None else 2] * (len(hops) + 1)
    return assemble_chain(graph, hops, specs, results, mems, swap_policy, purify, twirl)


def delivered_fidelities(
    graph: nx.Graph | PreparedNetwork,
    hops: Sequence[Hop],
    spec_of: dict,
    deliveries: Sequence,
    ghz: bool,
    swap_policy: str = "asap",
    purify: str | None = None,
    twirl: bool = True,
    sources: Sequence | None = None,
) -> np.ndarray:
    """Fidelity of every delivery of one request (<Psi+|rho|Psi+>, or the GHZ fidelity).

    Parameters
    ----------
    graph : networkx.Graph or PreparedNetwork
        The network.
    hops : sequence of Hop
        The request's route (a GHZ request: its legs party -> hub).
    spec_of : dict
        (a, b, station) -> (LinkSpec, LinkResult) for every hop, in the hop's orientation.
    deliveries : sequence of Delivery
        The engine's deliveries of this request.
    ghz : bool
        The request is a GHZ request.
    swap_policy : str
        ``"asap"`` or ``"nested"``.
    purify : str or None
        The links' purification protocol (None: raw links).
    twirl : bool
        BBPSSW re-twirls its output.
    sources : sequence, optional
        With ``purify``: the hops' sources in the route's orientation
        (:meth:`qnet.repeater.traffic.setup.TrafficLinks.route_sources`): their tables give the
        purified leaves' states.

    Returns
    -------
    numpy.ndarray
        One fidelity per delivery.

    Examples
    --------
    >>> import qnet
    >>> from qnet.repeater.traffic import Request, simulate_traffic
    >>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> run = simulate_traffic(graph, [Request("alice", "r1")], duration_s=5.0, seed=2)
    >>> f = run.requests[0].fidelity
    >>> bool(f.size > 0 and ((0.25 < f) & (f <= 1)).all())
    True
    """
    if not deliveries:
        return np.empty(0)
    net = prepare_network(graph)
    if not ghz:
        chain = _route_chain(net, hops, spec_of, swap_policy, purify, twirl)
        states = TreeStates(chain, default_swap_fn(), sources).evaluate([d.tree for d in deliveries])
        return fidelity_rows(states)
    from qnet.repeater.fusion import fuse, ghz_fidelity

    hub = net.memory(hops[0].node_b)
    fused_at = np.array([d.time_s for d in deliveries]) - hub.swap_time_s
    legs = []
    for i, leg in enumerate(hops):
        leg_sources = None if sources is None else [sources[i]]
        tables = TreeStates(_route_chain(net, [leg], spec_of, swap_policy, purify, twirl), None, leg_sources)
        heralds = np.array([d.tree[i].time_s for d in deliveries])
        if leg_sources is None:
            states = np.repeat(tables.rho[0][None], len(deliveries), axis=0)
        else:
            states = sources[i].states[np.array([d.tree[i].leaf_id for d in deliveries])]
        zero = np.zeros(len(deliveries), dtype=int)
        legs.append(tables.decay(states, zero, zero, heralds, heralds, heralds, fused_at))
    out = fuse(legs[0], legs[1], legs[2], gate_fidelity=hub.gate_fidelity, readout_fidelity=hub.readout_fidelity)
    return np.asarray(ghz_fidelity(out), dtype=float).reshape(len(deliveries))
