"""Hardware descriptions: memory nodes, heralding stations and fibres (frozen dataclasses).

Units are in the field names (seconds ``_s``, kilometres ``_km``, dB/km); probabilities and
efficiencies are in [0, 1]. ``from_mapping`` builds each object from a network-file table and
validates every value, raising :class:`qnet.errors.ConfigError` that names the node or fibre,
the field, the value and what is allowed.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Mapping

import numpy as np

from qnet.errors import ConfigError
from qnet.quantum.channels import DECAY_LAWS

__all__ = [
    "MemoryNode",
    "Station",
    "Fibre",
    "NODE_KINDS",
    "SCHEMES",
    "DECAY_LAWS",
    "MAX_TIME_S",
    "NAME_RULE",
    "is_valid_name",
    "default_fibre_name",
    "shown_key",
    "validate_value",
]

#: Heralding schemes of a station.
SCHEMES = ("single_click", "two_photon")

#: What a node or fibre name may contain. Names are parts of command-line keys
#: (``--set nodes.NAME.FIELD=VALUE``, ``--vary`` fields joined by ``,``, ``--via A,B``), so a
#: name with ``.``, ``=``, ``,`` or spaces could be loaded but never reached from the command line.
NAME_RULE = "letters, digits, '_' and '-' only (names are parts of --set/--vary keys and --via lists)"
_NAME_PATTERN = re.compile(r"[\w-]+")


def is_valid_name(value: Any) -> bool:
    """True for a node or fibre name that ``--set``, ``--vary`` and ``--via`` can reach.

    Parameters
    ----------
    value : Any
        The candidate name.

    Returns
    -------
    bool
        Whether ``value`` is a non-empty string of letters, digits, ``_`` and ``-``.

    Examples
    --------
    >>> is_valid_name("s_cd-2"), is_valid_name("a.b"), is_valid_name("x=1")
    (True, False, False)
    """
    return isinstance(value, str) and _NAME_PATTERN.fullmatch(value) is not None


#: The longest duration qnet times (s): far beyond any experiment, and small enough that sums
#: and squares of times in chains and waiting-time statistics stay finite in double precision.
MAX_TIME_S = 1e30

# Value checks: name -> (predicate, description of what is allowed)
_CHECKS = {
    "probability": (lambda v: 0.0 <= v <= 1.0, "a number in [0, 1]"),
    "dark_count": (
        lambda v: 0.0 <= v < 1.0,
        "a number in [0, 1) (at 1 every detector clicks in every window: no click pattern can herald)",
    ),
    "open_probability": (lambda v: 0.0 < v <= 1.0, "a number in (0, 1]"),
    "alpha": (lambda v: 0.0 < v < 1.0, "a number in (0, 1) (the bright-state population)"),
    "nonnegative": (lambda v: 0.0 <= v < math.inf, "a finite number >= 0"),
    "positive_or_inf": (lambda v: v > 0.0, "a number > 0 (or inf)"),
    "positive": (lambda v: 0.0 < v < math.inf, "a finite number > 0"),
    "duration": (lambda v: 0.0 <= v <= MAX_TIME_S, f"a time in seconds in [0, {MAX_TIME_S:g}]"),
    "count": (lambda v: v >= 1 and float(v).is_integer(), "an integer >= 1"),
}


def _spec(check: str | tuple[str, ...], default: Any = dataclass, doc: str = "") -> Any:
    """A dataclass field carrying its validation rule (``check``) in its metadata."""
    meta = {"check": check, "doc": doc}
    if default is dataclass:  # required
        return field(metadata=meta)
    return field(default=default, metadata=meta)


def validate_value(where: str, name: str, check: str | tuple[str, ...], value: Any) -> Any:
    """Check one value of a network table; return it (numbers as float, counts as int).

    Parameters
    ----------
    where, name : str
        The table (``nodes.alice``) and field, for the error message.
    check : str or tuple of str
        A key of the range checks (``"probability"``, ``"positive"``, ...), ``"name"``, or the
        allowed strings.
    value : Any
        The value from the table.

    Returns
    -------
    Any
        The value, numbers as float and ``"count"`` values as int.

    Raises
    ------
    ConfigError
        Naming ``where.name``, the value and what is allowed.

    Examples
    --------
    >>> validate_value("nodes.alice", "memories", "count", 2.0), validate_value("nodes.alice", "decay", DECAY_LAWS, "gaussian")
    (2, 'gaussian')
    >>> validate_value("nodes.alice", "memories", "count", 2**63 - 1)
    9223372036854775807
    >>> validate_value("nodes.alice", "emission_efficiency", "probability", 1.5)
    Traceback (most recent call last):
    ...
    qnet.errors.ConfigError: nodes.alice.emission_efficiency = 1.5 is invalid: a number in [0, 1]
    """
    if isinstance(check, tuple):  # a choice among strings
        if value not in check:
            raise ConfigError(where, name, value, "one of " + ", ".join(repr(c) for c in check))
        return value
    if check == "name":
        if not is_valid_name(value):
            raise ConfigError(where, name, value, "a name of " + NAME_RULE)
        return value
    if type(value) is float:  # (the common case, without the abstract-class checks)
        number = value
    elif isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ConfigError(where, name, value, _CHECKS[check][1])
    else:
        number = _as_float(value)
    ok, allowed = _CHECKS[check]
    if math.isnan(number) or not ok(number):
        raise ConfigError(where, name, number if math.isfinite(number) else value, allowed)
    if check == "count":
        return int(value) if isinstance(value, numbers.Integral) else int(number)  # (an integer keeps every digit)
    return number


def _as_float(value: Any) -> float:
    """``float(value)``, with integers beyond the float range as +-inf (instead of OverflowError)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def shown_key(key: Any) -> str:
    """A table key for an error message: as it is when it is a valid name, else its repr.

    Keeps messages on one line (a quoted TOML key may contain a newline) and unambiguous.

    Parameters
    ----------
    key : Any
        A key of a raw network table.

    Returns
    -------
    str

    Examples
    --------
    >>> shown_key("alice"), shown_key("a.b")
    ('alice', "'a.b'")
    """
    return key if is_valid_name(key) else repr(key)


_CHECKED_FIELDS: dict[type, tuple[tuple[str, Any], ...]] = {}


def _checked_fields(cls: type) -> tuple[tuple[str, Any], ...]:
    """(field name, check) of the fields of ``cls`` that carry a check, in field order (listed once per class)."""
    found = _CHECKED_FIELDS.get(cls)
    if found is None:
        found = _CHECKED_FIELDS[cls] = tuple(
            (f.name, f.metadata["check"]) for f in fields(cls) if f.metadata.get("check") is not None
        )
    return found


class _Validated:
    """Mixin: ``from_mapping`` with unknown/missing-field checks and ``__post_init__`` range checks."""

    _section: str = "nodes"  # the network-file table the object comes from

    def __post_init__(self) -> None:
        where = self._location()
        for name, check in _checked_fields(type(self)):
            object.__setattr__(self, name, validate_value(where, name, check, getattr(self, name)))

    def _location(self) -> str:
        return f"{self._section}.{self.name}"  # type: ignore[attr-defined]

    @classmethod
    def public_fields(cls) -> list[str]:
        """The fields a network-file table may set (``name`` included)."""
        return [name for name, _ in _checked_fields(cls)]

    @classmethod
    def from_mapping(cls, name: str, table: Mapping[str, Any]):
        """Build node ``name`` from its network-file table (``kind`` already removed)."""
        return cls._build(f"{cls._section}.{name}", table, name=name)

    @classmethod
    def _build(cls, where: str, table: Mapping[str, Any], **fixed: Any):
        allowed = set(cls.public_fields()) | set(fixed)
        for key in table:
            if key in fixed:  # e.g. name = "carol" inside [nodes.alice]: the table's key is the name
                raise ConfigError(
                    where, key, table[key], f"not a field here; the {key} is given by the table ([{where}])"
                )
            if key not in allowed:
                raise ConfigError(
                    where,
                    shown_key(key),
                    table[key],
                    "unknown field; allowed fields: " + ", ".join(sorted(allowed - set(fixed))),
                )
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
    Each field's unit and meaning is in its ``doc`` metadata; every value is validated on construction.

    Parameters
    ----------
    name : str
        The node's name (letters, digits, ``_``, ``-``).
    t2_s : float
        Dephasing time T2 (s); ``inf`` = no dephasing.
    emission_efficiency : float
        Probability that the photon leaves the node into the fibre.
    t1_s, decay, conversion_efficiency, prep_time_s, bright_state_population, memories, gate_fidelity, \
readout_fidelity, swap_time_s, cutoff_s
        Optional, see the field list (defaults: an ideal node).

    Raises
    ------
    ConfigError
        On a value out of range, naming ``nodes.NAME.FIELD``.

    Examples
    --------
    >>> node = MemoryNode.from_mapping("alice", {"t2_s": 0.5, "emission_efficiency": 0.4, "decay": "gaussian"})
    >>> node.t2_s, node.decay, node.t1_s
    (0.5, 'gaussian', inf)
    >>> MemoryNode.from_mapping("alice", {"t2_s": 0.5})
    Traceback (most recent call last):
    ...
    qnet.errors.ConfigError: nodes.alice.emission_efficiency: required field is missing
    """

    name: str = _spec("name")
    t2_s: float = _spec("positive_or_inf", doc="dephasing time T2 (s); inf = no dephasing")
    emission_efficiency: float = _spec("probability", doc="probability the photon leaves the node into the fibre")
    t1_s: float = _spec("positive_or_inf", math.inf, "amplitude-damping time T1 (s)")
    decay: str = _spec(DECAY_LAWS, "exponential", "dephasing law")
    conversion_efficiency: float = _spec("probability", 1.0, "frequency-conversion efficiency")
    prep_time_s: float = _spec("duration", 0.0, "local preparation time per attempt (s)")
    bright_state_population: float | None = field(default=None, metadata={"doc": "alpha of the single-click scheme"})
    memories: int | None = field(
        default=None, metadata={"doc": "memory qubits at the node; None = one per link it joins"}
    )
    gate_fidelity: float = _spec("probability", 1.0, "two-qubit gate: rho -> f rho + (1-f) I/4")
    readout_fidelity: float = _spec("probability", 1.0, "probability a measured bit is read correctly")
    swap_time_s: float = _spec("duration", 0.0, "duration of an entanglement swap (s)")
    cutoff_s: float = _spec("positive_or_inf", math.inf, "discard a stored pair older than this (s)")
    memory_split: tuple[tuple[str, int], ...] | None = field(
        default=None,
        metadata={"doc": "memories for given links, by station: { station = count }; the rest split evenly"},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        for name, check in (("bright_state_population", "alpha"), ("memories", "count")):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, validate_value(self._location(), name, check, value))
        if self.memory_split is not None:
            object.__setattr__(self, "memory_split", self._checked_split(self.memory_split))

    def _checked_split(self, split: Any) -> tuple[tuple[str, int], ...]:
        """``memory_split`` as sorted (station, count) pairs: names, counts >= 1, at most ``memories`` in all."""
        where = self._location()
        items = split.items() if isinstance(split, Mapping) else split
        try:
            pairs = [(k, v) for k, v in items]
        except (TypeError, ValueError):
            raise ConfigError(where, "memory_split", split, "a table { station = memories, ... }") from None
        out = []
        for key, value in pairs:
            if not is_valid_name(key):
                raise ConfigError(where, "memory_split", split, f"station names as keys ({NAME_RULE})")
            out.append((key, validate_value(where, f"memory_split.{key}", "count", value)))
        if len({k for k, _ in out}) != len(out):
            raise ConfigError(where, "memory_split", split, "each station once")
        if self.memories is None:
            raise ConfigError(where, "memory_split", split, "needs memories: the split shares out the node's memories")
        if sum(v for _, v in out) > self.memories:
            raise ConfigError(where, "memory_split", split, f"at most memories = {self.memories} in all")
        return tuple(sorted(out))

    @classmethod
    def public_fields(cls) -> list[str]:
        """The fields a ``[nodes.NAME]`` table of kind memory may set (``name`` included)."""
        return super().public_fields() + ["bright_state_population", "memories", "memory_split"]


@dataclass(frozen=True)
class Station(_Validated):
    """A heralding station: 50:50 beamsplitter (+ polarising splitters) and threshold detectors.

    Parameters
    ----------
    name : str
        The station's name.
    scheme : str
        One of :data:`SCHEMES`.
    detector_efficiency, dark_count_probability, visibility, phase_noise_rad : float
        Optional (defaults: ideal detectors, perfect interference, no phase noise (rad)).

    Raises
    ------
    ConfigError
        On a value out of range, or phase noise with the two-photon scheme.

    Examples
    --------
    >>> Station.from_mapping("mid", {"scheme": "two_photon", "detector_efficiency": 0.9}).detector_efficiency
    0.9
    >>> Station.from_mapping("mid", {"scheme": "three_photon"})
    Traceback (most recent call last):
    ...
    qnet.errors.ConfigError: nodes.mid.scheme = 'three_photon' is invalid: one of 'single_click', 'two_photon'
    """

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


def default_fibre_name(a: str, b: str) -> str:
    """Name of a fibre without ``name``: ``"A-B"``.

    The separator ``-`` is itself allowed in node names (so that the default name stays a valid,
    ``--set``-reachable name), hence two fibres can get the same default name (``m`` - ``s-n``
    and ``m-s`` - ``n`` are both ``"m-s-n"``). The network loader refuses such a collision and
    asks for an explicit ``name`` on one of the fibres; no separator allowed in names could
    avoid it, and one outside the allowed characters would make the fibre unreachable.

    Examples
    --------
    >>> default_fibre_name("alice", "mid"), default_fibre_name("m", "s-n") == default_fibre_name("m-s", "n")
    ('alice-mid', True)
    """
    return f"{a}-{b}"


@dataclass(frozen=True)
class Fibre(_Validated):
    """A fibre between two nodes: transmission 10^(-attenuation * length / 10).

    Parameters
    ----------
    name : str
        The fibre's name (default in a network file: ``"A-B"``, :func:`default_fibre_name`).
    a, b : str
        The nodes at its ends.
    length_km : float
        Fibre length (km).
    attenuation_db_per_km : float
        Attenuation (dB/km), default 0.2.

    Examples
    --------
    >>> fibre = Fibre.from_mapping(0, {"a": "alice", "b": "mid", "length_km": 10})
    >>> fibre.name, fibre.length_km, round(10 ** (-fibre.attenuation_db_per_km * fibre.length_km / 10), 6)
    ('alice-mid', 10.0, 0.630957)
    """

    name: str = _spec("name")
    a: str = _spec("name")
    b: str = _spec("name")
    length_km: float = _spec("nonnegative", doc="fibre length (km)")
    attenuation_db_per_km: float = _spec("nonnegative", 0.2, "attenuation (dB/km)")

    _section = "fibres"

    @classmethod
    def from_mapping(cls, index: int, table: Mapping[str, Any]) -> "Fibre":  # type: ignore[override]
        """Build fibre number ``index`` of the ``[[fibres]]`` array from its table (errors name ``fibres[index]`` until the name is known)."""
        where = f"fibres[{index}]"
        for end in ("a", "b"):
            if end not in table:
                raise ConfigError(where, end, None, "required field is missing (the node at this end)")
            validate_value(where, end, "name", table[end])
        name = validate_value(where, "name", "name", table.get("name", default_fibre_name(table["a"], table["b"])))
        rest = {k: v for k, v in table.items() if k != "name"}
        return cls._build(f"fibres.{name}", rest, name=name)


#: The record of each node ``kind`` of a network file.
NODE_KINDS: dict[str, type[MemoryNode] | type[Station]] = {"memory": MemoryNode, "station": Station}
