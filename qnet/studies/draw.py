"""Drawing a network: ``qnet draw`` and :func:`draw_network`.

What is drawn:

* **memory nodes** as dots, labelled when there are at most :data:`MAX_LABELS`; **stations are
  collapsed into their links**: every elementary link A - station - B is one line A - B;
* **where the nodes go**: network files store no positions (their node tables admit no extra
  field), so the layout is computed, deterministically: ``layout="auto"`` (default) is
  Kamada-Kawai with the fibre lengths as distances up to :data:`KAMADA_KAWAI_MAX` memory nodes
  (drawn distances follow the fibre), else ``networkx.spring_layout`` with ``seed=0``, each link
  weighted by 1 / its fibre length so that short links pull harder (O(n^2) Kamada-Kawai is too
  slow there); ``"spring"`` and ``"kamada_kawai"`` force one. A caller that knows positions
  passes ``pos``;
* **link colours**: ``color="fidelity"`` (the link's delivered fidelity), ``"rate"`` (its
  rate_hz, log colour scale), both from every elementary link evaluated at once with the batch
  engine (equal to Aer within 1e-12; :func:`qnet.link.run.run_links`), or ``"utilisation"`` from a
  traffic result (:func:`read_utilisation`: a JSON object with a ``links`` list of
  ``{"a", "b", "utilisation"}``; links it does not list are drawn grey and counted in the title).

The figure follows qnet's output rule (:func:`qnet.outputs.check_output_path`; PNG, SVG or PDF by
suffix; replaced only with ``overwrite``). Drawing needs matplotlib (``pip install 'qnet[plot]'``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Mapping

import networkx as nx

from qnet.errors import QnetError
from qnet.studies.choices import DRAW_COLORS, DRAW_LAYOUTS

__all__ = ["draw_network", "memory_graph", "read_utilisation", "COLORS", "LAYOUTS", "MAX_LABELS", "KAMADA_KAWAI_MAX"]

COLORS = DRAW_COLORS
LAYOUTS = DRAW_LAYOUTS
#: ``layout="auto"`` uses Kamada-Kawai up to this many memory nodes, the seeded spring layout above.
KAMADA_KAWAI_MAX = 200
#: Node labels are drawn up to this many memory nodes.
MAX_LABELS = 40
_SUFFIXES = (".png", ".svg", ".pdf")


def memory_graph(graph: nx.Graph) -> nx.Graph:
    """The memory nodes of a network, one edge per elementary link (``station``, ``length_km`` = both fibres).

    Examples
    --------
    >>> import qnet
    >>> g = memory_graph(qnet.load_network("examples/ion_repeater_chain.toml"))
    >>> g.number_of_edges(), g.edges["r2", "r3"]
    (4, {'station': 's3', 'length_km': 25.0})
    """
    from qnet.link.spec import elementary_links
    from qnet.network.hardware import MemoryNode

    g = nx.Graph()
    g.add_nodes_from(n for n, hw in graph.nodes(data="hardware") if isinstance(hw, MemoryNode))
    for a, b, s in elementary_links(graph):
        km = graph.edges[a, s]["fibre"].length_km + graph.edges[s, b]["fibre"].length_km
        if not g.has_edge(a, b) or km < g.edges[a, b]["length_km"]:
            g.add_edge(a, b, station=s, length_km=km)
    return g


def read_utilisation(path: str | Path) -> dict[frozenset, float]:
    """Link utilisation from a traffic result: JSON ``{"links": [{"a": ..., "b": ..., "utilisation": u}, ...]}``.

    Examples
    --------
    >>> import json, tempfile
    >>> f = Path(tempfile.mkdtemp()) / "traffic.json"
    >>> _ = f.write_text(json.dumps({"links": [{"a": "alice", "b": "r1", "utilisation": 0.25}]}))
    >>> read_utilisation(f)[frozenset(("r1", "alice"))]
    0.25
    """
    where = f"--result {str(path)!r}"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QnetError(f"{where}: file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise QnetError(f"{where}: not a JSON file: {exc}") from None
    links = data.get("links") if isinstance(data, dict) else None
    if not isinstance(links, list):
        raise QnetError(f"{where}: expected a JSON object with a 'links' list of {{a, b, utilisation}}")
    out = {}
    for i, link in enumerate(links):
        if not isinstance(link, dict) or not all(k in link for k in ("a", "b", "utilisation")):
            raise QnetError(f"{where}: links[{i}] = {link!r} is invalid: an object with a, b and utilisation")
        u = link["utilisation"]
        if isinstance(u, bool) or not isinstance(u, (int, float)) or not 0.0 <= u <= 1.0:
            raise QnetError(f"{where}: links[{i}].utilisation = {u!r} is invalid: a number in [0, 1]")
        out[frozenset((str(link["a"]), str(link["b"])))] = float(u)
    return out


def _link_values(graph: nx.Graph, g: nx.Graph, color: str, utilisation: Mapping | None) -> dict[tuple, float]:
    if color == "utilisation":
        if utilisation is None:
            raise QnetError("--color utilisation needs a traffic result (--result FILE)")
        unknown = [tuple(sorted(k)) for k in utilisation if not g.has_edge(*sorted(k))]
        if unknown:
            raise QnetError(
                f"--result: link {unknown[0][0]} - {unknown[0][1]} is not an elementary link of the network"
            )
        return {e: utilisation[frozenset(e)] for e in g.edges if frozenset(e) in utilisation}
    from qnet.link.circuit import compile_link
    from qnet.link.run import run_links
    from qnet.link.spec import link_spec

    edges = list(g.edges)
    results = run_links(
        [compile_link(link_spec(graph, a, b, g.edges[a, b]["station"])) for a, b in edges], link_backend="batch"
    )
    return {e: (r.fidelity if color == "fidelity" else r.rate_hz) for e, r in zip(edges, results)}


def _layout(g: nx.Graph, layout: str) -> dict:
    if layout == "kamada_kawai" or (layout == "auto" and g.number_of_nodes() <= KAMADA_KAWAI_MAX):
        return nx.kamada_kawai_layout(g, weight="length_km")
    for _u, _v, d in g.edges(data=True):
        d["_pull"] = 1.0 / max(d["length_km"], 1e-3)
    return nx.spring_layout(g, seed=0, weight="_pull")


def draw_network(
    graph: nx.Graph,
    output: str | Path | None = None,
    color: str = "fidelity",
    utilisation: Mapping | None = None,
    pos: Mapping | None = None,
    layout: str = "auto",
    overwrite: bool = False,
    size_in: tuple[float, float] = (8.0, 6.0),
    dpi: int = 100,
):
    """Draw the memory-node topology of ``graph`` with links coloured by ``color``; save to ``output`` if given.

    Parameters
    ----------
    graph : networkx.Graph
        A network (:func:`qnet.load_network`).
    output : str or path-like, optional
        ``.png``, ``.svg`` or ``.pdf``; checked before any work.
    color : {"fidelity", "rate", "utilisation"}
        What the link colour shows.
    utilisation : mapping, optional
        ``frozenset({a, b}) -> utilisation`` (:func:`read_utilisation`), for ``color="utilisation"``.
    pos : mapping, optional
        Memory node -> (x, y); default: the layout (module docstring).
    layout : {"auto", "spring", "kamada_kawai"}
    overwrite : bool
        Replace an existing ``output``.
    size_in, dpi
        Figure size in inches and resolution (a PNG is ``size_in * dpi`` pixels).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import qnet, tempfile
    >>> out = Path(tempfile.mkdtemp()) / "chain.png"
    >>> fig = draw_network(qnet.load_network("examples/ion_repeater_chain.toml"), out, color="rate")
    >>> out.exists(), fig.axes[0].get_title()
    (True, 'ion_repeater_chain: 5 memory nodes, 4 links, coloured by rate_hz')
    """
    if color not in COLORS:
        raise QnetError(f"--color {color!r} is invalid: one of {', '.join(COLORS)}")
    if layout not in LAYOUTS:
        raise QnetError(f"--layout {layout!r} is invalid: one of {', '.join(LAYOUTS)}")
    if output is not None:
        from qnet.outputs import check_output_path

        if Path(output).suffix.lower() not in _SUFFIXES:
            raise QnetError(f"-o {output}: the figure format comes from the suffix: one of {', '.join(_SUFFIXES)}")
        check_output_path(output, overwrite=overwrite)
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise QnetError("qnet draw needs matplotlib: pip install 'qnet[plot]'") from None
    g = memory_graph(graph)
    if g.number_of_edges() == 0:
        raise QnetError("the network has no elementary link (memory - station - memory) to draw")
    values = _link_values(graph, g, color, utilisation)
    pos = dict(pos) if pos is not None else _layout(g, layout)
    fig = Figure(figsize=size_in, dpi=dpi)
    _render(fig, g, pos, values, color, graph.graph.get("name") or "network")
    if output is not None:
        from qnet.outputs import replacing

        with replacing(output) as tmp:
            fig.savefig(tmp, format=Path(output).suffix.lower()[1:])
    return fig


def _render(fig, g: nx.Graph, pos: Mapping, values: Mapping[tuple, float], color: str, name: str) -> None:
    """Links (coloured, or grey without a value), nodes, labels, colour bar and title on ``fig``."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import LineCollection
    from matplotlib.colors import LogNorm, Normalize

    ax = fig.add_subplot()
    drawable = {e: v for e, v in values.items() if math.isfinite(v) and (color != "rate" or v > 0)}
    shown = list(drawable.values())
    norm: Normalize
    if color == "rate" and shown:
        norm = LogNorm(min(shown), max(shown) * (1.0 + 1e-9))
    else:
        norm = Normalize(
            min(shown, default=0.0), max(shown, default=1.0) + (1e-12 if shown and min(shown) == max(shown) else 0.0)
        )
    cmap = colormaps["viridis"]
    segs = [[pos[u], pos[v]] for u, v in g.edges if (u, v) in drawable]
    grey = [[pos[u], pos[v]] for u, v in g.edges if (u, v) not in drawable]
    if grey:
        ax.add_collection(LineCollection(grey, colors="0.8", linewidths=1.0, zorder=1))
    ax.add_collection(
        LineCollection(
            segs, colors=[cmap(norm(drawable[e])) for e in g.edges if e in drawable], linewidths=2.0, zorder=2
        )
    )
    xy = [pos[n] for n in g]
    ax.scatter([p[0] for p in xy], [p[1] for p in xy], s=20 if len(xy) <= MAX_LABELS else 4, c="k", zorder=3)
    if g.number_of_nodes() <= MAX_LABELS:
        for n in g:
            ax.annotate(n, pos[n], fontsize=7, xytext=(3, 3), textcoords="offset points")
    label = {"fidelity": "link fidelity", "rate": "rate_hz", "utilisation": "link utilisation"}[color]
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=label)
    title = f"{name}: {g.number_of_nodes()} memory nodes, {g.number_of_edges()} links, coloured by {label.split()[-1]}"
    ax.set_title(title + (f" ({len(grey)} grey: no value)" if grey else ""), fontsize=9)
    ax.set_aspect("equal", adjustable="datalim")
    ax.autoscale()
    ax.set_xticks([])
    ax.set_yticks([])
