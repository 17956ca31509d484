"""``python -m validation.annealed``: exhaustive enumeration against the annealed theory (SPEC §4, §10, V2, V5).

For every point of a grid (core model: N × J_D; two-module chain: N per module × J_D × λ) it draws
independent instances, enumerates all their fixed points, and compares

- the mean number of fixed points with the exact finite-N E𝒩 (SPEC §4.1, §4.4);
- for the core model, the mean number of ordered fixed-point pairs at each Hamming distance k with
  the exact E𝒩₂(k) (SPEC §4.3),

reporting each point's z-score z = (mean − theory)/s.e. Instances run as sweep tasks (batches of
``--batch``) on any executor and resume from ``<out>/tasks``. Writes ``counts.csv``, ``pairs.csv``
(with sidecars) and ``annealed.png``.

The count of a single instance is heavy-tailed (roughly log-normal for J̃ > 0), so the s.e. is
itself noisy with a few hundred instances: read |z| ≲ 3 as agreement. Pair counts at distances
where pairs are rare are worse: they arrive in mirror groups of 2 or 4 from a few instances, the
sample mean is then typically below the true mean and the sample s.e. underestimates the error.
A pair point is marked ``reliable`` when the theory expects at least :data:`MIN_EXPECTED_PAIRS`
ordered pairs in the whole sample; the summary's worst |z| is over reliable points.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from numerics.enumeration import fixed_points, overlap_histogram
from numerics.models import sample_chain, sample_core
from theory.annealed import log_mean_count, log_mean_pair_count
from toolkit.cli import grid_type, make_parser, positive_int, run
from toolkit.results import write_csv
from toolkit.rng import make_rng
from toolkit.sweep import Task, add_executor_args, executor_from_args, run_sweep

MAX_SPINS = 30
MIN_EXPECTED_PAIRS = 100


def enumerate_batch(seed, *, model: str, N: int, J_D: float, lam: float, n: int) -> dict:
    """Sweep task: ``n`` instances; their FP counts and (core) ordered-pair histograms."""
    rng = make_rng(seed)
    counts = np.empty(n, dtype=np.int64)
    spins = N if model == "core" else 2 * N
    hists = np.zeros((n, spins + 1), dtype=np.int64)
    for i in range(n):
        J = sample_core(N, rng) if model == "core" else sample_chain(N, 2, rng, lam_left=lam)
        codes = fixed_points(J, J_D)
        counts[i] = codes.size
        if model == "core":
            hists[i] = overlap_histogram(codes, N)
    return {"counts": counts, "hists": hists}


def _points(args):
    pts = [("core", int(N), float(j), 0.0) for N in args.N for j in args.J_D]
    pts += [("chain", int(N), float(j), float(l)) for N in args.chain_N for j in args.chain_J_D
            for l in args.lam]
    for model, N, _, _ in pts:
        spins = N if model == "core" else 2 * N
        if spins > MAX_SPINS:
            raise ValueError(f"{model} with N={N} has {spins} spins; at most {MAX_SPINS} here")
        if N < 2:
            raise ValueError(f"N must be >= 2, got {N}")
    return pts


def _key(model, N, J_D, lam, b):
    return f"{model}_N{N}_JD{J_D:+.6g}_lam{lam:.6g}_b{b}"


def compare(results: dict, pts, instances: int, batch: int):
    """Tidy rows of (model, N, J_D, λ) with mean, s.e., theory and z for counts and pair counts."""
    count_rows, pair_rows = [], []
    for model, N, J_D, lam in pts:
        nb = -(-instances // batch)
        parts = [results[_key(model, N, J_D, lam, b)] for b in range(nb)]
        c = np.concatenate([p["counts"] for p in parts]).astype(float)
        L = 1 if model == "core" else 2
        theory = float(np.exp(log_mean_count(N, J_D, L=L, lam_left=lam)))
        mean, se = c.mean(), c.std(ddof=1) / np.sqrt(c.size)
        count_rows.append(dict(model=model, N=N, J_D=J_D, lam=lam, instances=c.size, mean=mean,
                               se=se, theory=theory, z=(mean - theory) / se if se > 0 else 0.0,
                               frac_zero=float(np.mean(c == 0))))
        if model == "core":
            h = np.concatenate([p["hists"] for p in parts]).astype(float)
            k = np.arange(N + 1)
            th = np.exp(log_mean_pair_count(N, k, J_D))
            m, s = h.mean(0), h.std(0, ddof=1) / np.sqrt(h.shape[0])
            for kk in k:
                z = (m[kk] - th[kk]) / s[kk] if s[kk] > 0 else 0.0
                pair_rows.append(dict(N=N, J_D=J_D, k=int(kk), d=kk / N, instances=h.shape[0],
                                      mean=m[kk], se=s[kk], theory=th[kk], z=z,
                                      reliable=int(th[kk] * h.shape[0] >= MIN_EXPECTED_PAIRS)))
    return count_rows, pair_rows


def draw(out: Path, count_rows, pair_rows) -> Path:
    from figures import finish, subplots
    fig, (a1, a2, a3) = subplots(1, 3, figsize=(13, 3.8))
    for i, (model, jd, lam) in enumerate(sorted({(r["model"], r["J_D"], r["lam"])
                                                 for r in count_rows})):
        sel = sorted((r for r in count_rows if (r["model"], r["J_D"], r["lam"]) == (model, jd, lam)),
                     key=lambda r: r["N"])
        N = np.array([r["N"] for r in sel])
        lab = f"core J_D={jd:g}" if model == "core" else f"chain J_D={jd:g} λ={lam:g}"
        a1.errorbar(N, [r["mean"] for r in sel], [r["se"] for r in sel], fmt="o", ms=3,
                    color=f"C{i % 8}", label=lab)
        a1.plot(N, [r["theory"] for r in sel], "-", color=f"C{i % 8}", lw=1)
    a1.set(yscale="log", xlabel="N (per module for chains)", ylabel="mean number of FPs",
           title=r"Mean counts: enumeration (dots) vs $E\mathcal{N}$ (lines)")
    a1.legend(fontsize=6)
    if pair_rows:
        Nmax = max(r["N"] for r in pair_rows)
        for i, jd in enumerate(sorted({r["J_D"] for r in pair_rows})):
            sel = [r for r in pair_rows if r["N"] == Nmax and r["J_D"] == jd]
            a2.errorbar([r["k"] for r in sel], [r["mean"] for r in sel], [r["se"] for r in sel],
                        fmt="o", ms=3, color=f"C{i}", label=f"J_D={jd:g}")
            a2.plot([r["k"] for r in sel], [r["theory"] for r in sel], "-", color=f"C{i}", lw=1)
        a2.set(yscale="log", xlabel="Hamming distance k", ylabel="ordered FP pairs",
               title=f"Pairs at N={Nmax}: enumeration vs " + r"$E\mathcal{N}_2(k)$")
        a2.legend()
    z = [r["z"] for r in count_rows] + [r["z"] for r in pair_rows if r["reliable"]]
    a3.hist(z, bins=np.linspace(-5, 5, 41), color="C2")
    a3.set(xlabel="z-score", ylabel="points", title=f"z-scores, counts + reliable pairs (max |z| = {np.max(np.abs(z)):.2f})")
    return finish(fig, out / "annealed.png")


def build_parser():
    p = make_parser("python -m validation.annealed", __doc__.split("\n\n")[0],
                    out="results/validation/annealed", seed=0)
    p.add_argument("--N", type=grid_type("--N", minimum=2), default="12,14,16",
                   help="core-model sizes")
    p.add_argument("--J-D", dest="J_D", type=grid_type("--J-D"), default="0,0.25,0.5")
    p.add_argument("--chain-N", dest="chain_N", type=grid_type("--chain-N", minimum=2, allow_empty=True),
                   default="6,7,8", help="neurons per module of the two-module chain ('' for none)")
    p.add_argument("--chain-J-D", dest="chain_J_D", type=grid_type("--chain-J-D"), default="0")
    p.add_argument("--lam", type=grid_type("--lam", minimum=0), default="0.5,1")
    p.add_argument("--instances", type=positive_int, default=300, help="instances per point")
    p.add_argument("--batch", type=positive_int, default=50, help="instances per sweep task")
    add_executor_args(p)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    for name in ("N", "chain_N"):
        v = getattr(args, name)
        if np.any(v != np.round(v)):
            raise ValueError(f"--{name.replace('_', '-')} must be integers, got {v}")
    pts = _points(args)
    nb = -(-args.instances // args.batch)
    tasks = [Task(_key(m, N, j, l, b),
                  dict(model=m, N=N, J_D=j, lam=l, n=min(args.batch, args.instances - b * args.batch)))
             for m, N, j, l in pts for b in range(nb)]
    out = Path(args.out)
    with executor_from_args(args) as ex:
        results = run_sweep(enumerate_batch, tasks, out, seed=args.seed, executor=ex,
                            quiet=args.quiet, desc="enumerating")
    count_rows, pair_rows = compare(results, pts, args.instances, args.batch)
    params = {k: v for k, v in vars(args).items()
              if k not in ("out", "quiet", "workers", "executor", "scheduler")}
    write_csv(out / "counts.csv", count_rows, params=params, seed=args.seed)
    write_csv(out / "pairs.csv", pair_rows, params=params, seed=args.seed)
    png = draw(out, count_rows, pair_rows)
    zc = max(abs(r["z"]) for r in count_rows)
    rel = [r for r in pair_rows if r["reliable"]]
    zp = max((abs(r["z"]) for r in rel), default=0.0)
    print(f"{len(count_rows)} count points, worst |z| = {zc:.2f}; "
          f"{len(rel)} reliable pair points (of {len(pair_rows)}), worst |z| = {zp:.2f}")
    print(f"{out / 'counts.csv'}\n{out / 'pairs.csv'}\n{png}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main, prog="python -m validation.annealed"))
