"""Speed of long repeater chains (512 and 1024 links): the time process and the state-only evaluation.

Prints wall times (medians of --repeats runs unless stated) and their ratio to the target. Not a
test: nothing here asserts a time.

(a) Monte Carlo time process: ``qnet.repeater.path.simulate_path`` on a generated chain network
    (every link compiled and run on Aer in one ``run()``, then the discrete-event simulation of
    --samples deliveries and the batched swap trees of their states). One run per chain length
    (it is the long one), split into its parts.
(b) "State only": a 1024-link chain, each link's pair purified once (DEJMPS on two copies of the
    link's state via ``qnet.purify``) then swapped up a nested tree (``qnet.swap``), every level
    one batched call. Both operations are Aer superoperators applied in numpy: *cold* includes
    building them on Aer (the caches are cleared first), *warm* reuses them. Target: <= 2 s.
    Homogeneous (every link the same state) and heterogeneous (every link a different length,
    so a different state; the states come from one Aer run of 1024 link circuits, timed apart).
    The cost of one Aer superoperator build is printed too: a chain whose repeaters all differ
    in gate or readout fidelity pays it once per distinct repeater.

    python benchmarks/bench_chain.py [--samples 200] [--repeats 5] [--links 512,1024] [--blas-threads 1]

--blas-threads sets OPENBLAS_NUM_THREADS / OMP_NUM_THREADS before numpy loads (the batched
16x256 products are too small to gain from threads; on a busy machine threads cost ms each).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from _record import figure, seconds  # benchmarks/_record.py
from _timing import median_time  # benchmarks/_timing.py

TARGET_STATE_ONLY_S = 2.0


def chain_network(n_links: int, lengths_km: list[float] | None = None) -> dict:
    """Raw network table of an ion chain n0 - s0 - n1 - ... - n{N}: next-generation ion hardware as in
    examples/ion_repeater_chain.toml, 2 km links (1 km arms) unless ``lengths_km`` gives each link's length."""
    lengths_km = lengths_km or [2.0] * n_links
    memory = {
        "kind": "memory",
        "t2_s": 10.0,
        "emission_efficiency": 0.4,
        "conversion_efficiency": 0.5,
        "prep_time_s": 380e-6,
        "bright_state_population": 0.02,
        "gate_fidelity": 0.995,
        "readout_fidelity": 0.999,
    }
    nodes = {f"n{i}": dict(memory) for i in range(n_links + 1)}
    fibres = []
    for i in range(n_links):
        nodes[f"s{i}"] = {
            "kind": "station",
            "scheme": "single_click",
            "detector_efficiency": 0.8,
            "dark_count_probability": 1e-6,
            "visibility": 0.99,
            "phase_noise_rad": 0.1,
        }
        fibres.append({"a": f"n{i}", "b": f"s{i}", "length_km": lengths_km[i] / 2})
        fibres.append({"a": f"s{i}", "b": f"n{i + 1}", "length_km": lengths_km[i] / 2})
    return {"network": {"name": f"chain{n_links}"}, "nodes": nodes, "fibres": fibres}


def hops(n_links: int) -> list[tuple[str, str, str]]:
    return [(f"n{i}", f"n{i + 1}", f"s{i}") for i in range(n_links)]


# --------------------------------------------------------------------------- (a) Monte Carlo


def bench_monte_carlo(n_links: int, samples: int) -> None:
    import qnet
    from qnet.repeater.path import build_chain, simulate_path

    graph = qnet.network_from_dict(chain_network(n_links))
    t0 = time.perf_counter()
    _chain, _specs, results = build_chain(graph, hops(n_links))
    t_links = time.perf_counter() - t0
    t0 = time.perf_counter()
    full = simulate_path(graph, hops(n_links), samples=samples, seed=1)
    t_full = time.perf_counter() - t0
    t_mc = t_full - t_links
    events = samples * (2 * n_links - 1)  # one herald per link and one swap per repeater per delivery (no cutoff)
    p = results[0].success_probability
    print(
        f"  {n_links:5d} links: simulate_path {t_full:7.2f} s  = links on Aer ~{t_links:5.2f} s + time process and states "
        f"~{t_mc:6.2f} s ({samples} deliveries, {1e3 * t_mc / samples:.1f} ms each, {1e6 * t_mc / events:.1f} us per herald or swap)"
    )
    print(
        f"               p per attempt {p:.3g}, rate {full.rate_hz:.4g} /s (95% CI {full.rate_hz_ci[0]:.4g}..{full.rate_hz_ci[1]:.4g}), "
        f"mean fidelity {full.fidelity:.4f}"
    )
    figure(
        f"monte_carlo.{n_links}_links_s",
        seconds(t_full),
        t_full,
        f"simulate_path of a {n_links}-link chain, {samples} deliveries (links on Aer included), one run",
    )


# --------------------------------------------------------------------------- (b) state only


def purify_then_swap_tree(states):
    """DEJMPS on two copies of every link's pair, then a nested swap tree, one batched call per level.

    Returns (end-to-end state, mean success probability of a purification). Repeaters:
    gate fidelity 0.995, readout fidelity 0.999.
    """
    import numpy as np

    import qnet

    p, level = qnet.purify(states, states, protocol="dejmps", gate_fidelity=0.995, readout_fidelity=0.999)
    success = float(np.mean(p))
    while len(level) > 1:
        level = qnet.swap(level[0::2], level[1::2], gate_fidelity=0.995, readout_fidelity=0.999)
    return level[0], success


def bench_state_only(n_links: int, repeats: int) -> None:
    import numpy as np

    import qnet
    from qnet.quantum import aer_channels
    from qnet.quantum.states import fidelity

    def cold(states):
        aer_channels.clear_cache()
        return purify_then_swap_tree(states)

    # link states: homogeneous (one circuit) and heterogeneous (1024 lengths, one Aer run)
    rng = np.random.default_rng(7)
    lengths = rng.uniform(1.0, 20.0, n_links).tolist()
    graph_het = qnet.network_from_dict(chain_network(n_links, lengths))
    graph_hom = qnet.network_from_dict(chain_network(1))
    t0 = time.perf_counter()
    compiled = [qnet.compile_link(qnet.link_spec(graph_het, a, b, s)) for a, b, s in hops(n_links)]
    t_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    het = np.stack([r.density_matrix for r in qnet.run_links(compiled)])
    t_run = time.perf_counter() - t0
    hom_state = qnet.run_link(qnet.compile_link(qnet.link_spec(graph_hom, "n0", "n1", "s0"))).density_matrix
    hom = np.broadcast_to(hom_state, (n_links, 4, 4)).copy()
    print(
        f"  link states for the heterogeneous chain: compile {t_compile:.2f} s + one Aer run of {n_links} circuits {t_run:.2f} s "
        f"(not part of the state-only figure)"
    )

    ops = n_links + (n_links - 1)
    rows = []
    for name, states in (("homogeneous", hom), ("heterogeneous links", het)):
        t_cold, (rho, ok) = median_time(lambda: cold(states), repeats)
        t_warm, _ = median_time(lambda: purify_then_swap_tree(states), repeats)
        rows.append((name, t_cold, t_warm, fidelity(rho, "psi+"), ok))
    builds = {}
    for kind, keep, outcomes in (("swap", (0, 3), None), ("dejmps", (0, 1), ((0, 0), (1, 1)))):

        def build():
            aer_channels.clear_cache()
            aer_channels.reduced_map(kind, 0.995, 0.999, keep=keep, outcomes=outcomes)

        builds[kind], _ = median_time(build, repeats)
    print(
        f"  {n_links} links, {n_links} purifications + {n_links - 1} swaps = {ops} operations; target <= {TARGET_STATE_ONLY_S:g} s"
    )
    print(f"  {'case':<36} {'cold (s)':>9} {'warm (s)':>9} {'warm us/op':>10} {'cold/target':>11}  end-to-end F")
    for name, tc, tw, f, ok in rows:
        key = "homogeneous" if name == "homogeneous" else "heterogeneous"
        figure(
            f"state_only.{n_links}_links.{key}.cold_s",
            seconds(tc),
            tc,
            f"{n_links}-link chain, one DEJMPS round per link then a nested swap tree, {name}, Aer channels built (cold)",
        )
        print(
            f"  {name:<36} {tc:9.4f} {tw:9.4f} {1e6 * tw / ops:10.2f} {tc / TARGET_STATE_ONLY_S:11.3f}  {f:.4f}"
            f"  (purification succeeds w.p. {ok:.3f} on average)"
        )
    print(
        f"  one Aer superoperator build (+ reduction): swap {1e3 * builds['swap']:.1f} ms, DEJMPS {1e3 * builds['dejmps']:.1f} ms; "
        f"a chain whose {n_links - 1} repeaters all differ would add ~{(n_links - 1) * builds['swap']:.1f} s of swap builds"
    )
    print(
        "  reference (earlier measurement on this kind of machine): numpy batched 11-12 ms; Aer one run() per level ~1-1.6 s"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200, help="Monte Carlo deliveries per chain (default 200)")
    parser.add_argument("--repeats", type=int, default=5, help="repeats of the state-only timings (default 5)")
    parser.add_argument("--links", default="512,1024", help="chain lengths of the Monte Carlo (default 512,1024)")
    parser.add_argument(
        "--state-links", type=int, default=1024, help="links of the state-only chain (power of 2, default 1024)"
    )
    parser.add_argument(
        "--blas-threads", type=int, help="OPENBLAS_NUM_THREADS and OMP_NUM_THREADS (set before numpy loads)"
    )
    args = parser.parse_args(argv)
    if args.blas_threads:
        os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(args.blas_threads)
    import numpy as np
    import qiskit
    import qiskit_aer

    print(
        f"python {platform.python_version()}, qiskit {qiskit.__version__}, qiskit-aer {qiskit_aer.__version__}, "
        f"numpy {np.__version__}, {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}"
    )
    print("(a) Monte Carlo time process, qnet.repeater.path.simulate_path (asap swaps, one run each)")
    for n in (int(v) for v in args.links.split(",")):
        bench_monte_carlo(n, args.samples)
    n = args.state_links
    if n < 2 or n & (n - 1):
        raise SystemExit("--state-links must be a power of 2")
    print(f"(b) state only: purify (DEJMPS) then nested swap tree, Aer channels, median of {args.repeats}")
    bench_state_only(n, args.repeats)
    if not args.blas_threads:
        print(
            "(rerun with --blas-threads 1 to compare: the 16x256 batched products and the small Aer runs gain nothing "
            "from threads, and idle-spinning BLAS threads slow everything on a busy machine)"
        )


if __name__ == "__main__":
    main()
