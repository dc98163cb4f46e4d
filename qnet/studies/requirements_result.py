"""The answer of a requirements search (:class:`RequirementsResult`) and its readable report.

Only the standard library is imported at module level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from qnet.studies.improvements import Target, Variable

__all__ = ["RequirementsResult", "format_requirements"]


@dataclass(frozen=True)
class RequirementsResult:
    """The cheapest improvement found and the figures there.

    Attributes
    ----------
    variables : tuple of Variable
        What was improved (names, fields, today's values, ranges, weights).
    targets : tuple of Target
        The requirements.
    cost_kind : str
        ``"log"`` or ``"factor"``.
    factors : tuple of float
        The improvement factor of each variable (1 = unchanged).
    cost : float
        The cost there.
    figures : dict
        The end-to-end figures there (``qnet chain --json`` names).
    baseline : dict
        The figures with today's hardware (None if they could not be computed).
    binding : tuple of str
        The targets met with less than 0.1 % to spare.
    at_max : tuple of str
        Variables at their largest factor (the range binds).
    method : str
        ``"exact"`` or ``"monte_carlo"`` (common random numbers).
    path : tuple of str
        The route's memory nodes.
    evaluations : int
        Points evaluated (including those replayed from a resumed journal).
    resumed : int
        Points read from the journal.
    interrupted : bool
        Ctrl-C stopped the search: this is the cheapest point found until then.

    Examples
    --------
    >>> r = RequirementsResult((), (), "log", (), 0.0, {}, None, (), (), "exact", ("a", "b"), 1, 0, False)
    >>> r.to_dict()["cost"]
    0.0
    """

    variables: tuple[Variable, ...]
    targets: tuple[Target, ...]
    cost_kind: str
    factors: tuple[float, ...]
    cost: float
    figures: dict[str, Any]
    baseline: dict[str, Any] | None
    binding: tuple[str, ...]
    at_max: tuple[str, ...]
    method: str
    path: tuple[str, ...]
    evaluations: int
    resumed: int
    interrupted: bool

    def new_values(self) -> dict[str, float]:
        """Every improved field's new value (field key -> value)."""
        out: dict[str, float] = {}
        for var, k in zip(self.variables, self.factors):
            out.update(zip(var.fields, var.values(k)))
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (non-finite numbers become None)."""
        from qnet.link.results import json_number

        return {
            "path": list(self.path),
            "method": self.method,
            "targets": [str(t) for t in self.targets],
            "cost_kind": self.cost_kind,
            "cost": json_number(self.cost),
            "variables": [
                {**v.as_dict(), "factor": k, "new_values": list(v.values(k))}
                for v, k in zip(self.variables, self.factors)
            ],
            "figures": {n: json_number(v) for n, v in self.figures.items() if n != "error"},
            "baseline": None
            if self.baseline is None
            else {n: json_number(v) for n, v in self.baseline.items() if n != "error"},
            "binding": list(self.binding),
            "at_max_factor": list(self.at_max),
            "evaluations": self.evaluations,
            "resumed": self.resumed,
            "interrupted": self.interrupted,
        }


def format_requirements(result: RequirementsResult) -> str:
    """A readable report: the route, the targets, each variable's factor and new values, the figures.

    Parameters
    ----------
    result : RequirementsResult

    Returns
    -------
    str

    Examples
    --------
    >>> from qnet.studies.requirements import find_requirements
    >>> r = find_requirements("examples/ion_repeater_chain.toml", "alice", "r1", "nodes.*.t2_s", ["fidelity>=0.97"],
    ...                       overrides=["nodes.alice.t2_s=0.02", "nodes.r1.t2_s=0.02"], link_backend="batch", starts=1)
    >>> print(format_requirements(r).splitlines()[0])
    qnet requirements: alice - r1 (exact), targets fidelity>=0.97
    """
    lines = [
        f"qnet requirements: {' - '.join(result.path)} ({result.method.replace('_', ' ')}"
        + (", common random numbers" if result.method == "monte_carlo" else "")
        + "), targets "
        + ", ".join(str(t) for t in result.targets)
    ]
    if result.interrupted:
        lines.append("INTERRUPTED: the cheapest point found before Ctrl-C, not necessarily the optimum")
    unit = "sum of ln k" if result.cost_kind == "log" else "sum of (k - 1)"
    lines.append(
        f"cost {result.cost:.6g} ({unit}); {result.evaluations} evaluations"
        + (f" ({result.resumed} from the journal)" if result.resumed else "")
    )
    lines.append("")
    rows = [("parameter", "factor k", "today", "needed", "")]
    for var, k in zip(result.variables, result.factors):
        note = "at its largest factor" if var.name in result.at_max else ("unchanged" if k <= 1.0 + 1e-9 else "")
        new = var.values(k)
        if len(set(var.baseline)) == 1:
            rows.append((var.name, f"{k:.4g}", f"{var.baseline[0]:.6g}", f"{new[0]:.6g}", note))
        else:
            rows.append((var.name, f"{k:.4g}", "", "", note))
            rows += [(f"  {f}", "", f"{b:.6g}", f"{v:.6g}", "") for f, b, v in zip(var.fields, var.baseline, new)]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        lines.append(
            f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:>{widths[3]}}  {r[4]}".rstrip()
        )
    lines.append("")
    lines.append(f"{'figure':<24} {'today':>12} {'needed':>12} {'target':>12}")
    shown = list(dict.fromkeys([t.figure for t in result.targets] + ["fidelity", "rate_hz"]))
    for name in shown:
        tgt = " ".join(f"{t.op}{t.value:g}" for t in result.targets if t.figure == name)
        today = "" if result.baseline is None else f"{result.baseline.get(name, math.nan):.6g}"
        lines.append(f"{name:<24} {today:>12} {result.figures.get(name, math.nan):>12.6g} {tgt:>12}".rstrip())
    lines.append("")
    lines.append(
        "binding targets: " + (", ".join(result.binding) if result.binding else "none (every target has slack)")
    )
    if result.cost == 0.0:
        lines.append("today's hardware already meets every target")
    return "\n".join(lines)
