"""``qnet key`` and ``qnet traffic-key``: finite-size secret keys and time-to-key.

``qnet key NETWORK A B [--via ...] --protocol diqkd|bbm92 (--pairs N | --target-bits K)``: the
link or chain between A and B is computed as ``qnet chain`` computes it (exact where an exact
method exists), then its delivered state and rate give the key (:mod:`qnet.studies.key`).
``qnet traffic-key RESULT.json``: a ``key`` section for every request of a ``qnet traffic --json``
result. Imports nothing heavy at module level.
"""

from __future__ import annotations

import argparse
import json

from qnet.cli.args import count, positive_number, seed
from qnet.cli.options import (
    add_link_backend_option,
    add_network_options,
    add_no_progress_option,
    add_swap_policy_option,
)
from qnet.repeater.choices import METRICS

__all__ = ["register"]

_PROTOCOLS = ("diqkd", "bbm92")  # qnet.quantum.finite_key.PROTOCOLS (not imported: numpy)


def probability(text: str) -> float:
    """An argparse type for a number strictly between 0 and 1 (a security parameter).

    Parameters
    ----------
    text : str
        The option's argument.

    Returns
    -------
    float

    Raises
    ------
    argparse.ArgumentTypeError
        Not a number, or outside (0, 1).

    Examples
    --------
    >>> probability("1e-10")
    1e-10
    >>> probability("1")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: 1 is out of range (allowed: 0 < eps < 1)
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (allowed: 0 < eps < 1)") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"{text} is out of range (allowed: 0 < eps < 1)")
    return value


def pair_counts(text: str) -> tuple[float, ...]:
    """``--pairs``: one count N, a list ``N1,N2,...`` or a range ``START:STOP:K[:log]`` (each N finite > 0).

    Parameters
    ----------
    text : str
        The option's argument.

    Returns
    -------
    tuple of float
        The pair counts, in order.

    Raises
    ------
    argparse.ArgumentTypeError
        A malformed list or range, or a count that is not a finite number > 0.

    Examples
    --------
    >>> pair_counts("4.05e5")
    (405000.0,)
    >>> pair_counts("1e4:1e8:5:log")
    (10000.0, 100000.0, 1000000.0, 10000000.0, 100000000.0)
    >>> pair_counts("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: 0 is out of range (allowed: a finite number > 0)
    """
    from qnet.studies.ranges import RangeError, parse_list, parse_range

    try:
        values = [f"{v:.12g}" for v in parse_range(text)] if ":" in text else list(parse_list(text, str))
    except RangeError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc} (allowed: N, N1,N2,... or START:STOP:K[:log])") from None
    return tuple(positive_number(v.strip()) for v in values)  # a log range rounded to 12 digits


def _efficiency(text: str) -> float:
    """``--ec-efficiency``: a finite number >= 1."""
    value = positive_number(text)
    if value < 1.0:
        raise argparse.ArgumentTypeError(f"{text} is out of range (allowed: a finite number >= 1)")
    return value


def _add_key_options(p: argparse.ArgumentParser, *, pairs_required: bool) -> None:
    p.add_argument(
        "--protocol",
        choices=_PROTOCOLS,
        required=True,
        help="diqkd (CHSH-based, entropy accumulation bound) or bbm92 (entanglement-based BB84, "
        "Tomamichel et al. 2012)",
    )
    amount = p.add_mutually_exclusive_group(required=pairs_required)
    amount.add_argument(
        "--pairs",
        type=pair_counts,
        help="delivered Bell pairs N: the key they give (N1,N2,... or START:STOP:K[:log]: a table, one row per N)",
    )
    amount.add_argument("--target-bits", type=positive_number, help="key length K: the pairs and time it needs")
    p.add_argument(
        "--eps-sec", type=probability, default=1e-10, help="secrecy parameter (diqkd: the soundness; default 1e-10)"
    )
    p.add_argument(
        "--eps-cor",
        type=probability,
        default=1e-10,
        help="correctness parameter (bbm92; diqkd's is its 64-bit hash tags' 2^-61; default 1e-10)",
    )
    p.add_argument(
        "--ec-efficiency",
        type=_efficiency,
        default=1.0,
        help="error-correction leakage in units of the Shannon limit (default 1; practical codes 1.05-1.2)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")


def register(sub) -> None:
    """Add the ``key`` and ``traffic-key`` commands to ``qnet``'s subparsers.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        What ``ArgumentParser.add_subparsers`` returned.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="qnet")
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["key", "net.toml", "alice", "bob", "--protocol", "bbm92", "--pairs", "1e6"])
    >>> args.protocol, args.pairs, args.target_bits, args.eps_sec, args.handler.__name__
    ('bbm92', (1000000.0,), None, 1e-10, '_cmd_key')
    """
    p = sub.add_parser(
        "key", help="finite-size secret key from N delivered pairs, or the pairs and time for K key bits"
    )
    add_network_options(p)
    p.add_argument("a", help="first end node (memory)")
    p.add_argument("b", help="last end node (memory)")
    p.add_argument("--via", help="the path's inner memory nodes in order, comma-separated (stations are found)")
    p.add_argument(
        "--metric", choices=METRICS, default="hops", help="route cost when --via is not given (default hops)"
    )
    add_swap_policy_option(p, deprecated_policy=False)
    p.add_argument("--samples", type=count, default=1000, help="Monte Carlo deliveries where no exact method exists")
    p.add_argument("--seed", type=seed, help="seed of the Monte Carlo (0 to 2^63-1)")
    add_no_progress_option(p)
    add_link_backend_option(p)
    _add_key_options(p, pairs_required=True)
    p.set_defaults(handler=_cmd_key)

    p = sub.add_parser("traffic-key", help="a finite-size key section per request of a qnet traffic --json result")
    p.add_argument("traffic", help="JSON file written by qnet traffic --json")
    _add_key_options(p, pairs_required=False)
    p.set_defaults(handler=_cmd_traffic_key)


def _chain(args: argparse.Namespace):
    """The chain result between A and B (exact where qnet has an exact method, else Monte Carlo)."""
    from qnet.cli.chain import progress_bar, route_hops
    from qnet.errors import QnetError
    from qnet.network.io import load_network
    from qnet.repeater.path import simulate_path

    graph = load_network(args.network, args.overrides)
    hops = route_hops(graph, args)
    common = {"swap_policy": args.swap_policy, "link_backend": args.link_backend}
    try:
        return simulate_path(graph, hops, exact=True, **common)
    except QnetError:  # no exact method for this chain: the Monte Carlo, as qnet chain does
        bar, callback = (None, None) if args.no_progress else progress_bar("qnet key", "deliveries")
        result = simulate_path(graph, hops, samples=args.samples, seed=args.seed, progress=callback, **common)
        if bar is not None:
            bar.close()
        return result


def _key_options(args: argparse.Namespace, pairs: float | None = None) -> dict:
    return {
        "pairs": pairs,
        "target_bits": args.target_bits,
        "eps_sec": args.eps_sec,
        "eps_cor": args.eps_cor,
        "ec_efficiency": args.ec_efficiency,
    }


def _cmd_key(args: argparse.Namespace) -> int:
    from qnet.studies.key import format_key, format_key_scan, key_of_state

    chain = _chain(args)
    counts = args.pairs if args.pairs is not None else (None,)
    results = [
        key_of_state(args.protocol, chain.density_matrix, chain.rate_hz, **_key_options(args, n)) for n in counts
    ]
    path = f"{' - '.join(chain.path)}  ({chain.method}; fidelity {chain.fidelity:.4f})"
    if args.json:
        out = {"path": list(chain.path), "method": chain.method, "fidelity": chain.fidelity}
        if len(results) == 1:
            out["key"] = results[0].to_dict()
        else:
            out["keys"] = [r.to_dict() for r in results]
        print(json.dumps(out))
    else:
        print(format_key(results[0], path) if len(results) == 1 else format_key_scan(results, path))
    return 0


def _cmd_traffic_key(args: argparse.Namespace) -> int:
    from qnet.errors import QnetError
    from qnet.studies.key import traffic_keys

    try:
        with open(args.traffic, encoding="utf-8") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        raise QnetError(f"{args.traffic!r}: not JSON ({exc.msg}, line {exc.lineno})") from None
    if args.pairs is not None and len(args.pairs) > 1:
        raise QnetError("traffic-key --pairs: one count N (a list or range is for qnet key)")
    rows = traffic_keys(data, args.protocol, **_key_options(args, None if args.pairs is None else args.pairs[0]))
    if args.json:
        print(json.dumps({"protocol": args.protocol, "requests": rows}))
        return 0
    print(f"finite-size {args.protocol} key per request (pairs taken as Werner states of the request's mean fidelity)")
    print(
        f"{'request':>7}  {'a-b':<16} {'delivered':>10}  {'F':>6}  {'pairs':>10}  {'key bits':>10}  "
        f"{'bit/pair':>9}  {'asympt.':>8}  {'time':>10}"
    )
    for row in rows:
        key = row["key"]
        pair = f"{row['a']}-{row['b']}"
        if key is None:
            print(f"{row['request']:>7}  {pair:<16} {row['delivered'] or 0:>10}  {'':>6}  {row['note']}")
            continue
        time = "never" if key["time_s"] is None else f"{key['time_s']:.4g} s"
        print(
            f"{row['request']:>7}  {pair:<16} {row['delivered']:>10}  {row['fidelity']:6.4f}  {key['pairs']:10.4g}  "
            f"{key['key_bits']:10.4g}  {key['key_fraction']:9.3g}  {key['asymptotic_fraction']:8.3g}  {time:>10}"
        )
    return 0
