"""Shots mode: every figure carries an honest error; the CHSH estimate is not biased upward.

References are the exact density-matrix results (independent of sampling) and, for the
statistical properties, an independent numpy sampler that draws the nine settings' counts
straight from the exact delivered state. Tolerances come from the reported standard errors;
all seeds are fixed, so every check is deterministic.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import qnet
from qnet.quantum import figures
from qnet.link import shots
from qnet.cli import main
from qnet.link.circuit import compile_link
from qnet.link.spec import link_spec
from qnet.network.io import load_network
from qnet.link.results import LINK_LABELS, format_table
from qnet.quantum.states import PAULI, nearest_physical_state

from qnet_testing import assert_physical, random_state

LIU = str(Path(__file__).resolve().parents[2] / "examples" / "liu2026_ion_link.toml")
#: Estimated figures and their physical upper bounds (lower bound 0 for all).
BOUNDS = {
    "fidelity": 1.0,
    "success_probability": 1.0,
    "rate_hz": math.inf,
    "link_efficiency": math.inf,
    "chsh": 2 * math.sqrt(2),
    "qber": 1.0,
    "diqkd_key_fraction": 1.0,
}
COMPARED = ("fidelity", "success_probability", "rate_hz", "chsh", "qber", "diqkd_key_fraction")


@pytest.fixture(scope="module")
def liu():
    """(compiled Liu et al. link, its exact result)."""
    c = compile_link(link_spec(load_network(LIU), "alice", "bob"))
    return c, qnet.run_link(c)


def cell_probabilities(rho: np.ndarray) -> np.ndarray:
    """(9, 4) probabilities of the outcomes ++, +-, -+, -- of each setting, from projectors."""
    out = []
    for a, b in shots.SETTINGS:
        row = [
            np.trace(rho @ np.kron((PAULI["I"] + sa * PAULI[a]) / 2, (PAULI["I"] + sb * PAULI[b]) / 2)).real
            for sa in (1, -1)
            for sb in (1, -1)
        ]
        row = np.clip(row, 0.0, None)
        out.append(row / row.sum())
    return np.array(out)


def sample_counts(probs: np.ndarray, p: float, n_shots: int, rng) -> np.ndarray:
    """Independent sampler: herald ~ Binomial(shots, P) per setting, outcomes ~ multinomial."""
    heralded = rng.binomial(n_shots, p, size=len(probs))
    return np.array([rng.multinomial(k, pr) for k, pr in zip(heralded, probs)])


# ------------------------------------------------------------------ end to end (Aer)
@pytest.mark.slow
@pytest.mark.parametrize(
    "kwargs,seed",
    [
        (dict(scheme="single_click", length_a_km=10.0, alpha=0.2), 7),
        (dict(scheme="two_photon", length_a_km=5.0, station={"visibility": 0.8}), 8),
        (dict(scheme="two_photon", length_a_km=20.0, alice={"t2_s": 3e-4}, bob={"t2_s": 3e-4}), 9),
    ],
)
def test_estimates_within_five_standard_errors(link_result, kwargs, seed):
    """Seeded sampling: every estimated figure lies within 5 of its standard errors of the
    exact value (a 5-sigma miss has probability ~6e-7 per check); the herald probability's
    error is the binomial sqrt(P(1-P)/N), N = 9 settings x shots; the fidelity's is at most
    sqrt(3/n)/4 for n = P x shots heralds per setting (three +-1 correlators)."""
    n_shots = 20000
    exact = link_result(**kwargs)
    est = link_result(shots=n_shots, seed=seed, **kwargs)
    assert est.method == "shots" and est.shots == n_shots
    for name in COMPARED:
        se, (lo, hi) = est.error(name)
        assert se >= 0 and lo <= getattr(est, name) <= hi  # se 0: a key fraction 0 in every replicate
        assert abs(getattr(est, name) - getattr(exact, name)) <= 5 * se, name
    p = exact.success_probability
    assert est.error("success_probability")[0] == pytest.approx(math.sqrt(p * (1 - p) / (9 * n_shots)), rel=0.1)
    assert est.error("fidelity")[0] <= math.sqrt(3.0 / (p * n_shots)) / 4 * 1.1
    # the tomographic state is physical and near the exact one (elements: se ~ 1/sqrt(n))
    assert_physical(np.asarray(est.density_matrix), atol=1e-12)
    np.testing.assert_allclose(est.density_matrix, exact.density_matrix, atol=6 / math.sqrt(p * n_shots))
    again = link_result(shots=n_shots, seed=seed, **kwargs)
    assert again.to_dict() == est.to_dict()  # same seed, same numbers and errors


@pytest.mark.slow
def test_liu_link_chsh_and_key_fraction_over_seeds(liu):
    """The issue's link at 10^5 shots, four seeds: each figure within 5 SE of the exact value,
    and the mean CHSH within 3 standard errors of the mean of the exact 2.512 (the plug-in
    estimate printed 2.549-2.557 at 10^6 shots, ~+1.5 of its errors, on every seed)."""
    c, exact = liu
    runs = [qnet.run_link(c, shots=100_000, seed=s) for s in (11, 12, 13, 14)]
    for r in runs:
        for name in COMPARED:
            assert abs(getattr(r, name) - getattr(exact, name)) <= 5 * r.error(name)[0], name
    mean = np.mean([r.chsh for r in runs])
    se_mean = math.sqrt(sum(r.error("chsh")[0] ** 2 for r in runs)) / len(runs)
    assert abs(mean - exact.chsh) <= 3 * se_mean


# ----------------------------------------------------- statistics (independent sampler)
@pytest.fixture(scope="module")
def liu_replicates(liu):
    """Estimates from 100 independent data sets of the Liu link at 10^6 shots (~960 heralds
    per setting), drawn by the numpy sampler; the plug-in Horodecki value of each too."""
    c, exact = liu
    probs = cell_probabilities(exact.density_matrix)
    est, plug_in = [], []
    for seed in range(100):
        rng = np.random.default_rng([2026, seed])
        counts = sample_counts(probs, exact.success_probability, 1_000_000, rng)
        est.append(
            shots.estimate(
                counts,
                1_000_000,
                "psi+",
                c.spec.attempt_time_s,
                c.spec.pair_coherence_time_s,
                rng,
                draws=400,
                repeats=2,
            )
        )
        plug_in.append(figures.chsh(shots.tomographic_state(counts)))
    return exact, est, np.array(plug_in)


@pytest.mark.slow
def test_plug_in_chsh_is_biased_upward_and_the_cross_fitted_one_is_not(liu_replicates):
    """The plug-in maximum over settings overshoots the exact S by many standard errors of
    the mean (the issue's bias); the cross-fitted estimate does not overshoot (within 2 SE of
    the mean), and its downward bias (imperfect settings) is below a quarter of one run's SE."""
    exact, est, plug_in = liu_replicates
    s = np.array([e.values["chsh"] for e in est])
    se_one = np.mean([e.standard_errors["chsh"] for e in est])
    assert plug_in.mean() - exact.chsh > 5 * plug_in.std() / math.sqrt(len(plug_in))
    assert s.mean() - exact.chsh < 2 * s.std() / math.sqrt(len(s))
    assert exact.chsh - s.mean() < 0.25 * se_one


@pytest.mark.slow
@pytest.mark.parametrize("name", ["fidelity", "chsh", "qber", "diqkd_key_fraction", "bb84_key_fraction"])
def test_standard_errors_match_the_spread_and_intervals_cover(liu_replicates, name):
    """Over 100 data sets the reported SE equals the estimates' standard deviation within
    25 % (the spread of a 100-sample SD is ~7 %), and the 95 % intervals cover the exact value
    in at least 88 of 100 (binomial 95 %: P(<= 88) ~ 1e-3)."""
    exact, est, _ = liu_replicates
    truth = {"bb84_key_fraction": figures.bb84_key_fraction(exact.density_matrix)}.get(name, getattr(exact, name, None))
    values = np.array([e.values[name] for e in est])
    se = np.mean([e.standard_errors[name] for e in est])
    assert 0.75 < values.std() / se < 1.25
    cover = sum(e.intervals_95[name][0] <= truth <= e.intervals_95[name][1] for e in est)
    assert cover >= 88


# ------------------------------------------------------------------ few shots, no herald
@pytest.mark.slow
@pytest.mark.parametrize("n_shots", [100, 300, 3000])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_few_shots_stay_physical(liu, n_shots, seed):
    """At few shots: either the one-line error (no herald at all, or none in some setting), or finite estimates inside their
    physical ranges with finite errors, positive except a DI-QKD key of 0 in every replicate, and intervals inside the ranges that contain
    them; the table never prints 'x +- se' when x +- 2 se leaves the range (e.g. '1 +- 0.27').
    Warnings are errors in this test suite."""
    c, _ = liu
    try:
        r = qnet.run_link(c, shots=n_shots, seed=seed)
    except qnet.QnetError as exc:
        msg = str(exc)
        assert f"in {n_shots} shots per setting" in msg and "increase --shots" in msg and "\n" not in msg
        assert "no herald observed" in msg or "none in setting" in msg
        return
    for name, upper in BOUNDS.items():
        x = getattr(r, name)
        se, (lo, hi) = r.error(name)
        assert math.isfinite(x) and math.isfinite(se) and (se > 0 or name.startswith("diqkd")), name
        assert 0.0 <= lo <= x <= hi <= upper, name
    assert_physical(np.asarray(r.density_matrix), atol=1e-12)
    for line in format_table(r).splitlines():
        if " +- " in line and not line.startswith("+-"):
            name, x, _pm, se = line.split()[:4]
            assert 0 <= float(x) - 2 * float(se) and float(x) + 2 * float(se) <= BOUNDS[name], line


def test_no_herald_is_a_one_line_error(liu, capsys):
    """9 shots of a link heralding ~1e-3 per attempt: no herald (checked by the message)."""
    c, _ = liu
    with pytest.raises(
        qnet.QnetError, match=r"no herald observed in 1 shots per setting \(9 in all\); increase --shots"
    ):
        qnet.run_link(c, shots=1, seed=5)
    assert main(["link", LIU, "alice", "bob", "--shots", "1", "--seed", "5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qnet: error: ") and "no herald observed" in err and err.count("\n") == 1


@pytest.mark.slow
def test_json_gives_every_estimated_figure_an_error(liu, capsys):
    """--json under --shots: each estimated figure x has x_se (> 0 but for a key that is 0 in
    every replicate) and x_ci95 = [lo, hi] around
    it; the inputs (attempts per round, attempt time, coherence time) and the labels have none;
    exact mode has no errors."""
    assert main(["link", LIU, "alice", "bob", "--json", "--shots", "20000", "--seed", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    figures_out = [k for k in out if not k.endswith(("_se", "_ci95")) and k not in LINK_LABELS]
    assert out["method"] == "shots"
    for name in figures_out:
        if name in ("attempts_per_round", "attempt_time_s", "pair_coherence_time_s"):
            assert f"{name}_se" not in out
            continue
        assert out[f"{name}_se"] > 0 or name.startswith("diqkd"), name
        lo, hi = out[f"{name}_ci95"]
        assert lo <= out[name] <= hi, name
    assert main(["link", LIU, "alice", "bob", "--json"]) == 0
    assert not [k for k in json.loads(capsys.readouterr().out) if k.endswith(("_se", "_ci95"))]


# ------------------------------------------------------------------------- building blocks
def test_chsh_weights_score_the_horodecki_maximum():
    """2 <W(T), T> is the Horodecki value 2 sqrt(d1^2 + d2^2) of random states; W is odd in T
    and any other settings' weights score less; all without relying on SVD sign conventions."""
    rng = np.random.default_rng(4)
    for _ in range(20):
        rho = random_state(rng)
        t = figures.correlation_matrix(rho)
        w = figures.chsh_weights(t)
        assert figures.chsh_score(t, w) == pytest.approx(figures.chsh(rho), abs=1e-12)
        np.testing.assert_allclose(figures.chsh_weights(-t), -w, atol=1e-12)
        other = figures.chsh_weights(figures.correlation_matrix(random_state(rng)))
        assert figures.chsh_score(t, other) <= figures.chsh(rho) + 1e-12
    assert np.all(figures.chsh_weights(np.zeros((3, 3))) == 0)


def test_nearest_physical_state():
    """Smolin-Gambetta-Smith on diag(0.6, 0.5, -0.1, 0): zero -0.1 and 0 spreading -0.1 over
    the two others -> diag(0.55, 0.45, 0, 0) (by hand); physical states are fixed points."""
    out = nearest_physical_state(np.diag([0.6, 0.5, -0.1, 0.0]).astype(complex))
    np.testing.assert_allclose(out, np.diag([0.55, 0.45, 0.0, 0.0]), atol=1e-12)
    rho = random_state(np.random.default_rng(5))
    np.testing.assert_allclose(nearest_physical_state(rho), rho, atol=1e-12)
    u = np.linalg.qr(random_state(np.random.default_rng(6)))[0]
    rotated = nearest_physical_state(u @ np.diag([0.7, 0.4, -0.05, -0.05]) @ u.conj().T)
    assert_physical(rotated, atol=1e-12)
    np.testing.assert_allclose(np.linalg.eigvalsh(rotated), [0.0, 0.0, 0.35, 0.65], atol=1e-12)


def test_key_fraction_functions_take_arrays():
    """The vectorised binary entropy and DI-QKD key fraction equal the closed forms point by
    point (h(0.11) by hand), without warnings at the edges 0 and 1."""
    q = np.array([0.0, 0.05, 0.11, 0.5, 1.0])
    h = figures.binary_entropy(q)
    assert h[2] == pytest.approx(-0.11 * math.log2(0.11) - 0.89 * math.log2(0.89), abs=1e-15)
    assert h[0] == h[4] == 0.0 and h[3] == 1.0
    s = np.array([1.5, 2.0, 2.5, 2.7, 2 * math.sqrt(2)])
    r = figures.diqkd_key_fraction(s, 0.03)
    for si, ri in zip(s, r):
        want = (
            0.0
            if si <= 2
            else max(0.0, 1 - figures.binary_entropy(0.03) - figures.binary_entropy((1 + math.sqrt(si**2 / 4 - 1)) / 2))
        )
        assert ri == pytest.approx(want, abs=1e-15)
    assert isinstance(figures.diqkd_key_fraction(2.5, 0.03), float)


def test_split_keeps_every_count_and_balances_the_folds():
    """Each random split of each setting's counts is a partition into folds whose sizes
    differ by at most one."""
    counts = np.random.default_rng(7).integers(0, 40, size=(9, 4))
    parts = shots.split_counts(counts, np.random.default_rng(8), 5, 3)
    assert parts.shape == (3, 5, 9, 4) and parts.min() >= 0
    np.testing.assert_array_equal(parts.sum(axis=1), np.broadcast_to(counts, (3, 9, 4)))
    sizes = parts.sum(axis=-1)
    assert (sizes.max(axis=1) - sizes.min(axis=1)).max() <= 1


def test_tomographic_state_inverts_exact_statistics(liu):
    """Counts proportional to the exact outcome probabilities give back the exact state."""
    _, exact = liu
    counts = np.round(cell_probabilities(exact.density_matrix) * 1e12)
    np.testing.assert_allclose(shots.tomographic_state(counts), exact.density_matrix, atol=1e-9)


def test_table_rounds_to_the_error_and_uses_an_interval_at_a_bound():
    """'x +- se' with se to two significant digits and x to the same place; at a bound the
    95 % interval instead (the issue's 'fidelity 1 +- 0.27' becomes '1.00 [0.40, 1.00]')."""
    from qnet.link.results import format_estimate

    assert format_estimate("fidelity", 0.913843, 0.0064, (0.90, 0.93)) == "0.9138 +- 0.0064"
    assert format_estimate("success_probability", 0.000959333, 1.03e-05, (0.00094, 0.00098)) == "0.000959 +- 0.000010"
    assert format_estimate("fidelity", 1.0, 0.27, (0.40, 1.0)) == "1.00 [0.40, 1.00]"
    assert format_estimate("diqkd_key_fraction", 0.0, 0.0, (0.0, 0.0)) == "0 [0, 0]"


@pytest.mark.slow
def test_chsh_intervals_hold_the_truth_at_few_heralds(liu):
    """At 3000 shots (~3 heralds per setting) the cross-fitted CHSH is far below the truth
    (settings chosen on ~2 heralds, some folds empty) and the plug-in far above it; the
    intervals, from the former's lower to the latter's upper quantile, still cover the exact
    CHSH value and DI-QKD key in at least 88 of 100 seeded data sets (sets with an empty
    setting are skipped). The cross-fitted replicates' own 95 % interval covers the exact
    CHSH value in only 26 of these 100."""
    c, exact = liu
    probs = cell_probabilities(exact.density_matrix)
    covered, used = {"chsh": 0, "diqkd_key_fraction": 0}, 0
    for seed in range(300):
        rng = np.random.default_rng([77, seed])
        counts = sample_counts(probs, exact.success_probability, 3000, rng)
        if used == 100 or counts.sum(axis=1).min() == 0:
            continue
        used += 1
        e = shots.estimate(
            counts, 3000, "psi+", c.spec.attempt_time_s, c.spec.pair_coherence_time_s, rng, draws=400, repeats=2
        )
        for name in covered:
            covered[name] += e.intervals_95[name][0] <= getattr(exact, name) <= e.intervals_95[name][1]
    assert used == 100 and min(covered.values()) >= 88, covered
