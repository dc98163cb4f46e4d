"""Hardware descriptions: memory nodes, heralding stations and fibres (frozen dataclasses).

Units are in the field names (seconds ``_s``, kilometres ``_km``, dB/km); probabilities and
efficiencies are in [0, 1]. ``from_mapping`` builds each object from a network-file table and
validates every value, raising :class:`qnet.errors.ConfigError` that names the node or fibre,
the field, the value and what is allowed.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Mapping

import numpy as np

from .errors import ConfigError

__all__ = ["MemoryNode", "Station", "Fibre", "SCHEMES", "DECAY_LAWS"]

SCHEMES = ("single_click", "two_photon")
DECAY_LAWS = ("exponential", "gaussian")

# Value checks: name -> (predicate, description of what is allowed)
_CHECKS = {
    "probability": (lambda v: 0.0 <= v <= 1.0, "a number in [0, 1]"),
    "dark_count": (lambda v: 0.0 <= v < 1.0, "a number in [0, 1) (at 1 every detector clicks in every window: no click pattern can herald)"),
    "open_probability": (lambda v: 0.0 < v <= 1.0, "a number in (0, 1]"),
    "alpha": (lambda v: 0.0 < v < 1.0, "a number in (0, 1) (the bright-state population)"),
    "nonnegative": (lambda v: 0.0 <= v < math.inf, "a finite number >= 0"),
    "positive_or_inf": (lambda v: v > 0.0, "a number > 0 (or inf)"),
    "positive": (lambda v: 0.0 < v < math.inf, "a finite number > 0"),
    "count": (lambda v: v >= 1 and float(v).is_integer(), "an integer >= 1"),
}


def _spec(check: str | tuple[str, ...], default: Any = dataclass, doc: str = "") -> Any:
    """A dataclass field carrying its validation rule (``check``) in its metadata."""
    meta = {"check": check, "doc": doc}
    if default is dataclass:  # required
        return field(metadata=meta)
    return field(default=default, metadata=meta)


def _validate(where: str, name: str, check: str | tuple[str, ...], value: Any) -> Any:
    if isinstance(check, tuple):  # a choice among strings
        if value not in check:
            raise ConfigError(where, name, value, "one of " + ", ".join(repr(c) for c in check))
        return value
    if check == "name":
        if not isinstance(value, str) or not value:
            raise ConfigError(where, name, value, "a non-empty string")
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ConfigError(where, name, value, _CHECKS[check][1])
    value = float(value)
    ok, allowed = _CHECKS[check]
    if math.isnan(value) or not ok(value):
        raise ConfigError(where, name, value, allowed)
    return int(value) if check == "count" else value


class _Validated:
    """Mixin: ``from_mapping`` with unknown/missing-field checks and ``__post_init__`` range checks."""

    _section: str = "nodes"  # the network-file table the object comes from

    def __post_init__(self) -> None:
        where = self._location()
        for f in fields(self):  # type: ignore[arg-type]
            check = f.metadata.get("check")
            if check is not None:
                object.__setattr__(self, f.name, _validate(where, f.name, check, getattr(self, f.name)))

    def _location(self) -> str:
        return f"{self._section}.{self.name}"  # type: ignore[attr-defined]

    @classmethod
    def public_fields(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.metadata.get("check") is not None]  # type: ignore[arg-type]

    @classmethod
    def from_mapping(cls, name: str, table: Mapping[str, Any]):
        """Build node ``name`` from its network-file table (``kind`` already removed)."""
        return cls._build(f"{cls._section}.{name}", table, name=name)

    @classmethod
    def _build(cls, where: str, table: Mapping[str, Any], **fixed: Any):
        allowed = set(cls.public_fields()) | set(fixed)
        for key in table:
            if key not in allowed:
                raise ConfigError(where, key, table[key], "unknown field; allowed fields: " + ", ".join(sorted(allowed - set(fixed))))
        kwargs = {k: v for k, v in table.items() if k not in fixed}
        missing = [
            f.name
            for f in fields(cls)  # type: ignore[arg-type]
            if f.default is MISSING and f.default_factory is MISSING and f.name not in kwargs and f.name not in fixed
        ]
        if missing:
            raise ConfigError(where, missing[0], None, "required field is missing")
        return cls(**fixed, **kwargs)


@dataclass(frozen=True)
class MemoryNode(_Validated):
    """A quantum-memory node (e.g. a trapped ion) that emits photons entangled with its memory.

    Memory decay: dephasing multiplies the coherence by exp(-t/T2) ("exponential") or
    exp(-(t/T2)^2) ("gaussian"); amplitude damping gamma = 1 - exp(-t/T1) decays |1> -> |0>.
    """

    name: str = _spec("name")
    t2_s: float = _spec("positive_or_inf", doc="dephasing time T2 (s); inf = no dephasing")
    emission_efficiency: float = _spec("probability", doc="probability the photon leaves the node into the fibre")
    t1_s: float = _spec("positive_or_inf", math.inf, "amplitude-damping time T1 (s)")
    decay: str = _spec(DECAY_LAWS, "exponential", "dephasing law")
    conversion_efficiency: float = _spec("probability", 1.0, "frequency-conversion efficiency")
    prep_time_s: float = _spec("nonnegative", 0.0, "local preparation time per attempt (s)")
    bright_state_population: float | None = field(default=None, metadata={"doc": "alpha of the single-click scheme"})
    memories: int | None = field(default=None, metadata={"doc": "memory qubits at the node; None = one per link it joins"})
    gate_fidelity: float = _spec("probability", 1.0, "two-qubit gate: rho -> f rho + (1-f) I/4")
    readout_fidelity: float = _spec("probability", 1.0, "probability a measured bit is read correctly")
    swap_time_s: float = _spec("nonnegative", 0.0, "duration of an entanglement swap (s)")
    cutoff_s: float = _spec("positive_or_inf", math.inf, "discard a stored pair older than this (s)")

    def __post_init__(self) -> None:
        super().__post_init__()
        for name, check in (("bright_state_population", "alpha"), ("memories", "count")):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _validate(self._location(), name, check, value))

    @classmethod
    def public_fields(cls) -> list[str]:
        return super().public_fields() + ["bright_state_population", "memories"]


@dataclass(frozen=True)
class Station(_Validated):
    """A heralding station: 50:50 beamsplitter (+ polarising splitters) and threshold detectors."""

    name: str = _spec("name")
    scheme: str = _spec(SCHEMES, doc="heralding scheme")
    detector_efficiency: float = _spec("probability", 1.0, "detector efficiency")
    dark_count_probability: float = _spec("dark_count", 0.0, "dark-count probability per detector per window")
    visibility: float = _spec("probability", 1.0, "mode overlap of the two photons (interference visibility)")
    phase_noise_rad: float = _spec("nonnegative", 0.0, "rms optical phase error (rad, Gaussian); single_click only")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.scheme == "two_photon" and self.phase_noise_rad > 0:
            raise ConfigError(
                self._location(),
                "phase_noise_rad",
                self.phase_noise_rad,
                "must be 0 for scheme 'two_photon' (its herald does not depend on the optical phase)",
            )


@dataclass(frozen=True)
class Fibre(_Validated):
    """A fibre between two nodes: transmission 10^(-attenuation * length / 10)."""

    name: str = _spec("name")
    a: str = _spec("name")
    b: str = _spec("name")
    length_km: float = _spec("nonnegative", doc="fibre length (km)")
    attenuation_db_per_km: float = _spec("nonnegative", 0.2, "attenuation (dB/km)")

    _section = "fibres"

    @classmethod
    def from_mapping(cls, index: int, table: Mapping[str, Any]) -> "Fibre":  # type: ignore[override]
        where = f"fibres[{index}]"
        for end in ("a", "b"):
            if end not in table:
                raise ConfigError(where, end, None, "required field is missing (the node at this end)")
            if not isinstance(table[end], str) or not table[end]:
                raise ConfigError(where, end, table[end], "a node name (string)")
        name = table.get("name", f"{table['a']}-{table['b']}")
        if not isinstance(name, str) or not name:
            raise ConfigError(where, "name", name, "a non-empty string")
        rest = {k: v for k, v in table.items() if k != "name"}
        return cls._build(f"fibres.{name}", rest, name=name)
