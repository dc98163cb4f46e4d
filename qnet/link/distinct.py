"""Evaluate many links at once, each distinct one once: the helper behind chains, routing and comparisons.

A repeater chain of 512 identical hops is 512 link specs that differ only in their node and
station names; their circuits are the same but for the circuit's name, so their results are
the same but for the names. :func:`run_specs` simulates each distinct spec (names left out)
once, all of them in one :func:`~qnet.link.run.run_links` call, and hands every spec its
result under its own names.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from qnet._deprecation import renamed_keywords
from qnet.link.choices import check_link_backend
from qnet.link.circuit import compile_link, link_program
from qnet.link.results import LinkResult
from qnet.link.run import final_states, link_results_from_states, run_links
from qnet.link.spec import LinkSpec

__all__ = ["run_specs", "physics_key"]


def physics_key(spec: LinkSpec) -> LinkSpec:
    """``spec`` without its names (nodes, station): equal keys, equal circuits up to the circuit's name.

    Parameters
    ----------
    spec : LinkSpec

    Returns
    -------
    LinkSpec
        Hashable; its ``node_a``, ``node_b`` and ``station`` are empty.

    Examples
    --------
    >>> import qnet
    >>> g = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> physics_key(qnet.link_spec(g, "alice", "r1")).node_a
    ''
    """
    return dataclasses.replace(spec, node_a="", node_b="", station="")


@renamed_keywords(engine="link_backend")
def run_specs(
    specs: Sequence[LinkSpec],
    shots: int | None = None,
    seed: int | None = None,
    device: str = "CPU",
    link_backend: str = "aer",
) -> list[LinkResult]:
    """:class:`LinkResult` of every spec, each distinct physics simulated once, all in one run.

    Exact mode (``shots`` None) runs each distinct :func:`physics_key` once and gives the specs
    that share it the same figures under their own names (and their own copy of the density
    matrix); with ``link_backend="batch"`` it simulates the circuits' instruction lists
    (:func:`qnet.link.circuit.link_program`, exactly the compiled circuits' instructions) and
    builds no Qiskit circuit. Shots mode samples every spec separately (independent
    estimates), in one run.

    Parameters
    ----------
    specs : sequence of LinkSpec
        The links.
    shots, seed, device, link_backend
        As for :func:`qnet.link.run.run_links`.

    Returns
    -------
    list of LinkResult
        One per spec, in order.

    Raises
    ------
    QnetError
        As :func:`qnet.link.run.run_links`.

    Examples
    --------
    >>> import qnet
    >>> g = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> specs = [qnet.link_spec(g, a, b) for a, b in (("alice", "r1"), ("r1", "r2"), ("alice", "r1"))]
    >>> [(r.node_a, r.node_b, round(r.fidelity, 4)) for r in run_specs(specs, link_backend="batch")]
    [('alice', 'r1', 0.973), ('r1', 'r2', 0.973), ('alice', 'r1', 0.973)]
    """
    check_link_backend(link_backend)
    if shots is not None:
        return run_links(
            [compile_link(s) for s in specs], shots=shots, seed=seed, device=device, link_backend=link_backend
        )
    index: dict[LinkSpec, int] = {}
    distinct: list[LinkSpec] = []
    where = []
    for spec in specs:
        key = physics_key(spec)
        i = index.get(key)
        if i is None:
            i = index[key] = len(distinct)
            distinct.append(spec)
        where.append(i)
    if link_backend == "batch":  # the circuits' instruction lists, without building Qiskit objects
        results = _run_programs(distinct)
    else:
        compiled = [compile_link(s, share_instructions=True) for s in distinct]
        states = final_states(compiled, device, link_backend, in_place=True)  # the circuits are ours: no copies
        results = link_results_from_states(compiled, states)
    out, handed = [], set()
    for spec, i in zip(specs, where):
        r = results[i]
        if i in handed or (spec.node_a, spec.node_b, spec.station) != (r.node_a, r.node_b, r.station):
            r = dataclasses.replace(
                r, node_a=spec.node_a, node_b=spec.node_b, station=spec.station, density_matrix=r.density_matrix.copy()
            )
        handed.add(i)
        out.append(r)
    return out


def _run_programs(specs: Sequence[LinkSpec]) -> list[LinkResult]:
    """Exact results of ``specs`` on the batch engine, from their instruction lists."""
    from qnet.link.batch import density_matrices

    programs = [link_program(s) for s in specs]
    return link_results_from_states(programs, density_matrices(programs))
