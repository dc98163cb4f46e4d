"""What ``qnet place`` writes: the network file of a placement, its table, its JSON and its drawing.

* **network** (:func:`placement_network`): the demands' end nodes and the repeaters as memory
  nodes; every segment that a demand's chosen chain uses as one heralded link (hardware file's
  memory, station and fibre, built by :func:`qnet.network.generate.network_table`: the station in
  the middle, two fibres of half the segment each). The map nodes a segment passes through are
  not in the file (their fibre is); the file's header lists every demand's route. Two demands
  that join the same two nodes by different routes share the shorter one. ``qnet path`` and
  ``qnet chain`` evaluate it; a repeater that serves several demands has the memories of its
  degree there (``network_table``'s rule), which only helps the figures verified per chain.
* **drawing** (:func:`draw_placement`): the map's fibres in grey at their coordinates
  (longitude, latitude), the fibre each chosen chain uses in colour, repeaters as red squares,
  demand ends as blue dots.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import networkx as nx

from qnet.errors import QnetError
from qnet.network.generate import Hardware, network_table
from qnet.studies.placement import Placement
from qnet.studies.progress import plural

__all__ = ["placement_network", "placement_header", "placement_dict", "format_placement", "draw_placement"]


def placement_network(p: Placement, g: nx.Graph, hw: Hardware, name: str = "placement") -> dict[str, Any]:
    """The network table of placement ``p`` on map ``g`` (module docstring).

    Examples
    --------
    >>> from qnet.network.generate import line, read_hardware
    >>> from qnet.studies.placement import Demand, place
    >>> hw = read_hardware("examples/hardware/ion.toml")
    >>> g = line(5, 40.0)
    >>> t = placement_network(place(g, [Demand("n0", "n4", min_rate_hz=0.5)], hw), g, hw)
    >>> sorted(n for n, node in t["nodes"].items() if node["kind"] == "memory"), len(t["fibres"])
    (['n0', 'n2', 'n4'], 4)
    """
    topo = nx.Graph()
    for plan in p.plans:
        names = plan.candidate.chain
        for n in names:
            topo.add_node(n, **({"pos": g.nodes[n]["pos"]} if "pos" in g.nodes[n] else {}))
        for a, b, km in zip(names, names[1:], plan.candidate.segments_km):
            if not topo.has_edge(a, b) or km < topo.edges[a, b]["length_km"]:
                topo.add_edge(a, b, length_km=max(km, 1e-3))
    return network_table(topo, hw, name=name, description=f"{len(p.repeaters)} repeaters placed by qnet place")


def placement_header(p: Placement, map_path: str) -> str:
    """The network file's header: where it came from and every demand's route through the map."""
    lines = [
        f"Written by qnet place from {map_path}: {len(p.repeaters)} repeaters ({p.status}): "
        f"{', '.join(p.repeaters) or 'none'}.",
        "Routes through the map (repeaters in [brackets]):",
    ]
    for plan in p.plans:
        reps = set(plan.candidate.repeaters)
        route = " - ".join(f"[{n}]" if n in reps else n for n in plan.candidate.route)
        lines.append(f"  {plan.demand.label}: {route}")
    return "\n".join(lines)


def placement_dict(p: Placement) -> dict[str, Any]:
    """``qnet place --json``: the placement as a JSON-ready dict (infinite numbers as None)."""

    def num(x: float) -> float | None:
        return float(x) if math.isfinite(x) else None

    return {
        "status": p.status,
        "repeaters": list(p.repeaters),
        "count": len(p.repeaters),
        "lower_bound": p.lower_bound,
        "demands": [
            {
                "a": pl.demand.a,
                "b": pl.demand.b,
                "min_fidelity": pl.demand.min_fidelity,
                "min_rate_hz": pl.demand.min_rate_hz,
                "route": list(pl.candidate.route),
                "repeaters": list(pl.candidate.repeaters),
                "segments_km": list(pl.candidate.segments_km),
                "fidelity": pl.check.fidelity,
                "rate_hz": pl.check.rate_hz,
                "method": pl.check.method,
                "samples": pl.check.samples,
                "fidelity_bound": num(pl.candidate.fidelity_bound),
                "rate_bound_hz": num(pl.candidate.rate_bound_hz),
            }
            for pl in p.plans
        ],
        "candidates": p.candidates,
        "segment_links": p.segments,
        "milp_rounds": p.iterations,
        "removed_by_verification": p.removed,
        "exhaustive": p.exhaustive,
        "elapsed_s": p.elapsed_s,
        "notes": list(p.notes),
    }


def format_placement(p: Placement, total_demands: int | None = None) -> str:
    """The readable table of ``qnet place``."""
    head = f"{plural(len(p.repeaters), 'repeaters')} ({p.status}): {', '.join(p.repeaters) or 'none'}"
    rows = [("demand", "repeaters", "segments km", "fidelity", "rate /s", "method")]
    for pl in p.plans:
        c = pl.candidate
        rows.append(
            (
                pl.demand.label,
                ",".join(c.repeaters) or "-",
                "+".join(f"{x:.0f}" for x in c.segments_km),
                f"{pl.check.fidelity:.3f}",
                f"{pl.check.rate_hz:.3g}",
                pl.check.method if pl.check.samples is None else f"mc {pl.check.samples}",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    table = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    tail = (
        f"{plural(p.candidates, 'candidate chains')}, {plural(p.segments, 'segment links')} simulated, "
        f"{plural(p.iterations, 'MILP rounds')}, {plural(p.removed, 'candidates')} refused by the chain model"
    )
    out = [head, *table, tail]
    if total_demands is not None and len(p.plans) < total_demands:
        out.append(f"{total_demands - len(p.plans)} demands not verified")
    out += list(p.notes)
    return "\n".join(out)


def draw_placement(
    p: Placement,
    g: nx.Graph,
    output: str | Path,
    overwrite: bool = False,
    size_in: tuple[float, float] = (7.0, 8.0),
    dpi: int = 100,
):
    """Draw placement ``p`` on its map (module docstring) and save it (``.png``, ``.svg`` or ``.pdf``).

    Examples
    --------
    >>> import tempfile
    >>> from qnet.network.generate import line, read_hardware
    >>> from qnet.studies.placement import Demand, place
    >>> g = line(5, 40.0)
    >>> p = place(g, [Demand("n0", "n4", min_rate_hz=0.5)], read_hardware("examples/hardware/ion.toml"))
    >>> fig = draw_placement(p, g, Path(tempfile.mkdtemp()) / "p.png")
    >>> fig.axes[0].get_title()
    '1 repeater for 1 demand (optimal)'
    """
    from qnet.outputs import check_output_path, replacing

    if Path(output).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise QnetError(f"--figure {output}: the figure format comes from the suffix: one of .png, .svg, .pdf")
    check_output_path(output, overwrite=overwrite)
    try:
        from matplotlib import colormaps
        from matplotlib.collections import LineCollection
        from matplotlib.figure import Figure
    except ImportError:
        raise QnetError("drawing needs matplotlib: pip install 'qnet[plot]'") from None
    pos = {n: g.nodes[n]["pos"] for n in g if "pos" in g.nodes[n]}
    if len(pos) < g.number_of_nodes():
        pos = nx.kamada_kawai_layout(g, weight="length_km")
    fig = Figure(figsize=size_in, dpi=dpi)
    ax = fig.add_subplot()
    ax.add_collection(LineCollection([[pos[u], pos[v]] for u, v in g.edges], colors="0.82", linewidths=1.0, zorder=1))
    cmap = colormaps["tab10"]
    for i, pl in enumerate(p.plans):
        r = pl.candidate.route
        ax.add_collection(
            LineCollection(
                [[pos[u], pos[v]] for u, v in zip(r, r[1:])],
                colors=[cmap(i % 10)],
                linewidths=2.5,
                alpha=0.7,
                zorder=2,
                label=pl.demand.label,
            )
        )
    ax.scatter([pos[n][0] for n in g], [pos[n][1] for n in g], s=6, c="0.5", zorder=3)
    ends = sorted({n for pl in p.plans for n in (pl.demand.a, pl.demand.b)} - set(p.repeaters))
    ax.scatter([pos[n][0] for n in ends], [pos[n][1] for n in ends], s=40, c="tab:blue", zorder=4, label="end node")
    ax.scatter(
        [pos[n][0] for n in p.repeaters],
        [pos[n][1] for n in p.repeaters],
        s=70,
        marker="s",
        c="tab:red",
        zorder=5,
        label="repeater",
    )
    for n in sorted(set(ends) | set(p.repeaters)):
        ax.annotate(n, pos[n], fontsize=7, xytext=(4, 3), textcoords="offset points", zorder=6)
    ax.legend(fontsize=6, loc="best")
    ax.set_title(
        f"{plural(len(p.repeaters), 'repeaters')} for {plural(len(p.plans), 'demands')} ({p.status})", fontsize=9
    )
    lonlat = bool(g.graph.get("lonlat")) and all("pos" in g.nodes[n] for n in g)
    if lonlat:  # a degree of longitude is cos(latitude) of a degree of latitude
        mean_lat = sum(pos[n][1] for n in g) / g.number_of_nodes()
        ax.set_aspect(1.0 / max(math.cos(math.radians(mean_lat)), 0.05), adjustable="datalim")
        ax.set_xlabel("longitude (deg)", fontsize=7)
        ax.set_ylabel("latitude (deg)", fontsize=7)
    else:
        ax.set_aspect("equal", adjustable="datalim")
    ax.autoscale()
    with replacing(output) as tmp:
        fig.savefig(tmp, format=Path(output).suffix.lower()[1:])
    return fig
