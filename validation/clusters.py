"""``python -m validation.clusters``: local entropy and single-flip clusters by exhaustive enumeration.

What is measured (SPEC §10, issue "clusters"). For every point (N, J_D) of a grid, independent
instances of the core model are drawn and all their fixed points (FPs) enumerated. For every FP
the number of *other* FPs at each Hamming distance k = 1..K (K = N//2) is counted, and per
instance we keep

- the number M of FPs;
- ``typical``: the mean over all M references of the count at distance k (a reference drawn
  uniformly among the FPs, as in the quenched Franz–Parisi definition, SPEC §5);
- ``top<x>``: the same mean over the top fraction x of the references ranked by their number of
  neighbours within distance K_dense = max(1, N//10) (the densest FPs; defaults 10 % and 1 %, at
  least one FP);
- ``max``: the largest count at each k over all FPs;
- the clusters of FPs connected by single spin flips: the largest cluster, the fraction of FPs
  that are isolated (cluster of size 1) and the mean cluster size seen by a uniformly drawn FP
  (Σ size² / M).

Instances without FPs have no reference and are left out of the reference averages (their
number is reported). Across instances the counts are averaged and the empirical local entropy is
s_emp(d) = (1/N) ln(mean count at k), d = k/N: the log of the instance-averaged count, not the
instance average of the log, so it sits above a quenched (average-of-log) value by the
instance-to-instance fluctuations. One more reference, ``pooled`` = Σ_i M_i·typical_i / Σ_i M_i
(all ordered pairs at distance k over all FPs), is the ratio estimator of E𝒩₂(k)/E𝒩.

Comparison with the theory (``local.csv``, one row per N, J_D, k and reference):

- ``theory_annealed_finiteN`` = (1/N) ln[E𝒩₂(k)/E𝒩] (SPEC §4.3, exact at finite N): the expected
  number of FPs at distance k from a *planted* FP, i.e. from a reference drawn with the instances
  weighted by their M. ``pooled`` estimates it without bias; ``typical`` weighs every instance
  equally and lies below it where the count of neighbours grows with M.
- ``theory_annealed`` = S_loc^ann(d) (SPEC §4.5), the N → ∞ limit of the previous column; at
  N ≤ 30 the two differ by the combinatorial prefactor (O(ln N / N)), so the finite-size trend is
  plotted, not hidden.
- ``theory_fp`` = S_FP(d), the quenched RS Franz–Parisi entropy (SPEC §5), solved on a coarse d
  grid (:data:`FP_D_GRID`, cached as sweep tasks in ``<out>/tasks/fp_*``; delete them after a
  change to ``theory/franz_parisi.py``) and interpolated (PCHIP) between converged points only;
  NaN elsewhere.

``clusters.csv`` has one row per (N, J_D) with the cluster statistics and E𝒩 (SPEC §4.1).
``clusters.png``: (a) typical local entropy vs d for each N at one J_D, with the finite-N
annealed prediction, S_loc^ann and S_FP; (b) the densest-FP local entropy across N; (c) the
isolated fraction and (d) the mean cluster size vs J_D for each N.

Caveat (SPEC §6.9): at the OGP → RM transition the relevant exponents are ~1e-3 per spin, far
below what N ≤ 30 can resolve (1/N ln of a count moves by 1/N ≈ 0.03 per factor e), so this
command cannot locate J_c. What it must and can confirm is the counts, the neighbour counts
against E𝒩₂(k)/E𝒩, and the smooth growth of neighbour counts and cluster sizes with J_D.

Cost. Counting neighbours is O(M²) pairs (:func:`numerics.enumeration.neighbour_counts`, about
3e8 pairs/s) or, for N ≤ :data:`SPECTRAL_MAX_N`, O((K+1)·N·2^N) by a Walsh–Hadamard XOR
convolution (:func:`spectral_neighbour_counts`, exact in int64); ``--method auto`` picks the
cheaper. Points whose E𝒩 exceeds :data:`MAX_EXPECTED_FP` are refused (the O(M·K) table and the
O(M²) pair count); note that already E𝒩 ~ 1e5 at N > 24 costs minutes per instance.
"""

from __future__ import annotations

import hashlib
import math
import sys
from pathlib import Path

import numpy as np

from numerics.enumeration import clusters, fixed_points, neighbour_counts
from numerics.models import sample_core
from theory.annealed import log_mean_count, log_mean_pair_count, mean_count
from toolkit.cli import grid_type, make_parser, positive_int, run
from toolkit.results import write_csv
from toolkit.rng import make_rng
from toolkit.sweep import Task, add_executor_args, executor_from_args, run_sweep, task_path

MAX_SPINS = 30
MAX_EXPECTED_FP = 2e6
SPECTRAL_MAX_N = 24          # 2^24 int64 = 128 MB per array
METHODS = ("auto", "pairs", "spectral")
#: d grid on which S_FP is solved (continuation from d = 1/2 down), finer at small d. PCHIP
#: through these points agrees with a 15-point grid to < 1e-3 per spin (J_D = 0, 0.5).
FP_D_GRID = (0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)


# ------------------------------------------------------------------------------ neighbour counts

def _fwht(a: np.ndarray) -> np.ndarray:
    """In-place unnormalised Walsh–Hadamard transform of an int64 array of length 2^N.

    Integer overflow wraps modulo 2^64; the transform is linear with integer coefficients, so the
    final results are exact whenever they fit in int64.
    """
    h = 1
    while h < a.size:
        v = a.reshape(-1, 2, h)
        x = v[:, 0, :].copy()
        v[:, 0, :] += v[:, 1, :]
        np.subtract(x, v[:, 1, :], out=v[:, 1, :])
        h *= 2
    return a


def _krawtchouk(N: int, K: int) -> np.ndarray:
    """K_k(x) = Σ_j (−1)^j C(x, j) C(N − x, k − j), k = 0..K, x = 0..N (int64)."""
    T = np.zeros((K + 1, N + 1), dtype=np.int64)
    for k in range(K + 1):
        for x in range(N + 1):
            T[k, x] = sum((-1) ** j * math.comb(x, j) * math.comb(N - x, k - j) for j in range(k + 1))
    return T


def spectral_neighbour_counts(codes, N: int, max_distance: int) -> np.ndarray:
    """Same result as :func:`numerics.enumeration.neighbour_counts`, by XOR convolution.

    With f the indicator of the codes on {0..2^N−1}, the count at distance k from x is
    (f ⊛ 1[|·| = k])(x), and the Walsh–Hadamard transform of 1[|·| = k] is the Krawtchouk
    polynomial K_k(|w|): count_k = 2^−N · WHT(WHT(f) · K_k(|w|)). Work (K+1)·N·2^N, memory a few
    2^N int64 arrays; refused above N = :data:`SPECTRAL_MAX_N`.
    """
    c = np.asarray(codes, dtype=np.uint64)
    if N > SPECTRAL_MAX_N:
        raise ValueError(f"spectral neighbour counts need 2^N memory; N = {N} > {SPECTRAL_MAX_N}")
    K = int(max_distance)
    out = np.ones((c.size, K + 1), dtype=np.int64)
    if c.size == 0 or K == 0:
        return out
    f = np.zeros(1 << N, dtype=np.int64)
    idx = c.astype(np.intp)
    f[idx] = 1
    F = _fwht(f)
    weight = np.bitwise_count(np.arange(1 << N, dtype=np.uint64))
    T = _krawtchouk(N, K)
    low = np.int64((1 << N) - 1)
    for k in range(1, K + 1):
        g = _fwht(F * T[k][weight])
        v = g[idx]
        if np.any(v & low) or np.any(v < 0):      # cannot happen unless the transform is wrong
            raise RuntimeError("spectral neighbour counts: inexact transform")
        out[:, k] = v >> N
    return out


def _use_spectral(method: str, N: int, M: int, K: int) -> bool:
    if method == "spectral":
        return True
    if method == "pairs" or N > SPECTRAL_MAX_N:
        return False
    # measured: pairs ~3.6 ns per pair, spectral ~1.2-1.8 ns per (k, pass, element)
    return M * M > (K + 1) * N * (1 << N) / 2


# ----------------------------------------------------------------------------- per-instance stats

def instance_stats(codes, N: int, K: int, K_dense: int, quantiles, method: str = "auto") -> dict:
    """Statistics of one instance's FPs (sorted distinct codes); see the module docstring.

    Returns M, typical (K,), top (len(quantiles), K), max (K,), largest, isolated, seen. With no
    FP every per-FP statistic is NaN (largest = 0).
    """
    codes = np.asarray(codes, dtype=np.uint64)
    M = codes.size
    nq = len(quantiles)
    if M == 0:
        nan = np.full(K, np.nan)
        return dict(M=0, typical=nan, top=np.full((nq, K), np.nan), max=nan, largest=0,
                    isolated=np.nan, seen=np.nan)
    if _use_spectral(method, N, M, K):
        counts = spectral_neighbour_counts(codes, N, K)
    else:
        counts = neighbour_counts(codes, N, K)
    nb = counts[:, 1:]                                   # k = 1..K, the reference itself excluded
    score = nb[:, :K_dense].sum(axis=1)
    order = np.argsort(-score, kind="stable")
    top = np.stack([nb[order[:max(1, math.ceil(q * M))]].mean(axis=0) for q in quantiles])
    _, sizes = clusters(codes, N)
    return dict(M=M, typical=nb.mean(axis=0), top=top, max=nb.max(axis=0).astype(float),
                largest=int(sizes[0]), isolated=float(np.sum(sizes == 1)) / M,
                seen=float(np.sum(sizes.astype(float) ** 2)) / M)


def enumerate_batch(seed, *, N: int, J_D: float, n: int, K: int, K_dense: int, quantiles,
                    method: str = "auto") -> dict:
    """Sweep task: ``n`` instances (the i-th is the i-th :func:`sample_core` draw of the task's rng)."""
    rng = make_rng(seed)
    stats = [instance_stats(fixed_points(sample_core(N, rng), J_D), N, K, K_dense, quantiles,
                            method) for _ in range(n)]
    return {name: np.array([s[name] for s in stats]) for name in stats[0]}


def fp_curve(seed, *, J_D: float, d_grid) -> dict:
    """Sweep task: S_FP on ``d_grid`` (theory.franz_parisi.curve); a failure is returned, not raised."""
    from theory.franz_parisi import curve
    d = np.asarray(d_grid, float)
    try:
        res = curve(d, J_D)
        return dict(d=d, entropy=np.array([r.entropy for r in res], float),
                    converged=np.array([bool(r.converged) for r in res]), error="")
    except Exception as exc:  # noqa: BLE001 - theory is being developed; report, do not crash
        msg = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return dict(d=d, entropy=np.full(d.size, np.nan), converged=np.zeros(d.size, bool),
                    error=msg)


def _task(seed, *, kind: str, **params) -> dict:
    return fp_curve(seed, **params) if kind == "fp" else enumerate_batch(seed, **params)


# ---------------------------------------------------------------------------------- aggregation

def _qname(q: float) -> str:
    return f"top{100 * q:g}"


def _enum_key(N, J_D, batch, b, quantiles):
    qs = "-".join(f"{q:g}" for q in quantiles)
    return f"N{N}_JD{J_D:+.6g}_B{batch}_b{b}_q{qs}"


def _fp_key(J_D):
    grid = hashlib.sha256(repr(FP_D_GRID).encode()).hexdigest()[:8]
    return f"fp_JD{J_D:+.6g}_grid{grid}"


def fp_interpolate(fp: dict | None, d) -> np.ndarray:
    """S_FP at ``d`` by PCHIP through the converged grid points; NaN outside them or next to a failure."""
    from scipy.interpolate import PchipInterpolator
    d = np.atleast_1d(np.asarray(d, float))
    out = np.full(d.shape, np.nan)
    if fp is None:
        return out
    g, s, ok = (np.asarray(fp[k]) for k in ("d", "entropy", "converged"))
    o = np.argsort(g)
    g, s, ok = g[o], s[o], ok[o].astype(bool) & np.isfinite(s[o])
    if ok.sum() < 2:
        return out
    f = PchipInterpolator(g[ok], s[ok], extrapolate=False)
    i = np.clip(np.searchsorted(g, d), 0, g.size - 1)          # g[i-1] < d <= g[i]
    on_grid = g[i] == d
    use = np.where(on_grid, ok[i], (i > 0) & (d > g[0]) & (d < g[-1]) & ok[i] & ok[i - 1])
    out[use] = f(d[use])
    return out


def aggregate(results: dict, pts, instances: int, batch: int, quantiles, fp: dict):
    """Tidy rows: local.csv (N, J_D, k, reference) and clusters.csv (N, J_D)."""
    from theory.local_entropy import annealed
    local_rows, cluster_rows = [], []
    nb = -(-instances // batch)
    for N, J_D in pts:
        parts = [results[_enum_key(N, J_D, batch, b, quantiles)] for b in range(nb)]
        cat = {k: np.concatenate([np.asarray(p[k]) for p in parts]) for k in parts[0]}
        M = cat["M"].astype(float)
        has = M > 0
        n_has = int(has.sum())
        K = N // 2
        k = np.arange(1, K + 1)
        d = k / N
        th_fin = (log_mean_pair_count(N, k, J_D) - log_mean_count(N, J_D)) / N
        th_ann = np.asarray(annealed(d, J_D), float)
        th_fp = fp_interpolate(fp.get(J_D), d)
        refs = {"typical": cat["typical"][has], "max": cat["max"][has]}
        for iq, q in enumerate(quantiles):
            refs[_qname(q)] = cat["top"][has, iq, :]
        for ref, arr in refs.items():
            mean = arr.mean(axis=0) if n_has else np.full(K, np.nan)
            se = arr.std(axis=0, ddof=1) / np.sqrt(n_has) if n_has > 1 else np.full(K, np.nan)
            refs[ref] = (mean, se)
        pooled = (np.sum(cat["typical"][has] * M[has, None], axis=0) / M[has].sum()
                  if n_has else np.full(K, np.nan))
        refs["pooled"] = (pooled, np.full(K, np.nan))
        for ref in ["typical", "pooled", *[_qname(q) for q in quantiles], "max"]:
            mean, se = refs[ref]
            with np.errstate(divide="ignore", invalid="ignore"):
                s = np.log(mean) / N
            for i in range(K):
                local_rows.append(dict(
                    N=N, J_D=J_D, k=int(k[i]), d=float(d[i]), reference=ref, instances=n_has,
                    mean_count=float(mean[i]), se_count=float(se[i]),
                    log_count_per_spin=float(s[i]), theory_annealed_finiteN=float(th_fin[i]),
                    theory_annealed=float(th_ann[i]), theory_fp=float(th_fp[i])))
        iso = cat["isolated"][has]
        seen = cat["seen"][has]
        cluster_rows.append(dict(
            N=N, J_D=J_D, instances=M.size, instances_with_fp=n_has, mean_fp=float(M.mean()),
            theory_mean_fp=float(mean_count(N, J_D)),
            largest_cluster_mean=float(cat["largest"].astype(float)[has].mean()) if n_has else np.nan,
            isolated_fraction=float(iso.mean()) if n_has else np.nan,
            isolated_fraction_se=float(iso.std(ddof=1) / np.sqrt(n_has)) if n_has > 1 else np.nan,
            isolated_fraction_pooled=float(np.sum(iso * M[has]) / M[has].sum()) if n_has else np.nan,
            mean_cluster_size=float(seen.mean()) if n_has else np.nan,
            mean_cluster_size_se=float(seen.std(ddof=1) / np.sqrt(n_has)) if n_has > 1 else np.nan))
    return local_rows, cluster_rows


# ---------------------------------------------------------------------------------------- figure

def _sel(rows, **kw):
    return sorted((r for r in rows if all(r[a] == v for a, v in kw.items())), key=lambda r: r["k"])


def _pick_jd(J_Ds, want):
    J_Ds = sorted(set(J_Ds))
    if want is not None:
        return min(J_Ds, key=lambda j: abs(j - want))
    return min(J_Ds, key=lambda j: (abs(j - 0.5), -j))


def draw(out: Path, local_rows, cluster_rows, quantiles, fp: dict, plot_jd=None) -> Path:
    from figures import finish, subplots
    from theory.local_entropy import annealed
    Ns = sorted({r["N"] for r in local_rows})
    J_Ds = sorted({r["J_D"] for r in local_rows})
    jd = _pick_jd(J_Ds, plot_jd)
    fig, axes = subplots(2, 2, figsize=(12, 8.6))
    (a, b), (c, e) = axes
    dd = np.linspace(0.004, 0.5, 300)
    s_ann = np.asarray(annealed(dd, jd), float)
    cmap = [f"C{i % 10}" for i in range(len(Ns))]
    fpj = fp.get(jd)

    def theory_lines(ax):
        ax.plot(dd, s_ann, "k-", lw=1.2)
        if fpj is not None and np.any(fpj["converged"]):
            ok = np.asarray(fpj["converged"], bool)
            ax.plot(np.asarray(fpj["d"])[ok], np.asarray(fpj["entropy"])[ok], "k:", lw=1.6,
                    marker="x", ms=4)
        ax.axhline(0, color="0.7", lw=0.6)

    def legends(ax, styles):
        from matplotlib.lines import Line2D
        h = [Line2D([], [], color="k", lw=1.2, label=r"$S_{loc}^{ann}(d)$ ($N\to\infty$)")]
        if fpj is not None and np.any(fpj["converged"]):
            h.append(Line2D([], [], color="k", ls=":", marker="x", ms=4, lw=1.6,
                            label=r"$S_{FP}(d)$ (quenched RS)"))
        h += [Line2D([], [], color="0.35", **kw) for kw in styles]
        leg = ax.legend(handles=h, loc="lower right", fontsize=7.5)
        ax.add_artist(leg)
        ax.legend(handles=[Line2D([], [], color=cmap[i], lw=3, label=f"N = {N}")
                           for i, N in enumerate(Ns)], loc="upper left", fontsize=8)

    # (a) typical references
    theory_lines(a)
    for i, N in enumerate(Ns):
        t = _sel(local_rows, N=N, J_D=jd, reference="typical")
        p = _sel(local_rows, N=N, J_D=jd, reference="pooled")
        x = [r["d"] for r in t]
        a.plot(x, [r["theory_annealed_finiteN"] for r in t], "--", color=cmap[i], lw=1)
        y = np.array([r["log_count_per_spin"] for r in t])
        err = np.array([r["se_count"] / r["mean_count"] / N if r["mean_count"] > 0 else np.nan
                        for r in t])
        a.errorbar(x, y, err, fmt="o", ms=4, color=cmap[i])
        a.plot(x, [r["log_count_per_spin"] for r in p], "s", ms=6, mfc="none", color=cmap[i])
    legends(a, [dict(ls="--", lw=1, label=r"finite N: $\frac{1}{N}\ln[E\mathcal{N}_2(k)/E\mathcal{N}]$"),
                dict(ls="", marker="o", ms=4, label="typical: mean over refs, then instances"),
                dict(ls="", marker="s", ms=6, mfc="none", label="pooled: all pairs / all FPs")])
    a.set(xlabel="d = k/N", ylabel=r"$\frac{1}{N}\ln$(mean # FPs at distance d)",
          title=f"(a) around typical FPs, J_D = {jd:g}")

    # (b) densest references
    theory_lines(b)
    qmin, qmax = min(quantiles), max(quantiles)
    for i, N in enumerate(Ns):
        t = _sel(local_rows, N=N, J_D=jd, reference="typical")
        top = _sel(local_rows, N=N, J_D=jd, reference=_qname(qmin))
        b.plot([r["d"] for r in t], [r["log_count_per_spin"] for r in t], "-", color=cmap[i],
               lw=0.8, alpha=0.5)
        b.plot([r["d"] for r in top], [r["log_count_per_spin"] for r in top], "o-", ms=4,
               color=cmap[i])
        if qmax != qmin:
            t2 = _sel(local_rows, N=N, J_D=jd, reference=_qname(qmax))
            b.plot([r["d"] for r in t2], [r["log_count_per_spin"] for r in t2], "^", ms=5,
                   mfc="none", color=cmap[i])
    styles = [dict(ls="-", marker="o", ms=4, label=f"{_qname(qmin)}: densest {100 * qmin:g} % of FPs")]
    if qmax != qmin:
        styles.append(dict(ls="", marker="^", ms=5, mfc="none",
                           label=f"{_qname(qmax)}: densest {100 * qmax:g} %"))
    styles.append(dict(ls="-", lw=0.8, alpha=0.5, label="typical (as in (a))"))
    legends(b, styles)
    b.set(xlabel="d = k/N", ylabel=r"$\frac{1}{N}\ln$(mean # FPs at distance d)",
          title=f"(b) around the densest FPs (most neighbours within max(1, N//10)), J_D = {jd:g}")
    ylo = min(a.get_ylim()[0], b.get_ylim()[0])
    yhi = max(a.get_ylim()[1], b.get_ylim()[1])
    for ax in (a, b):
        ax.set_xlim(0, 0.52)
        ax.set_ylim(max(ylo, -0.35), yhi)

    # (c), (d) clusters vs J_D
    for i, N in enumerate(Ns):
        rows = sorted((r for r in cluster_rows if r["N"] == N), key=lambda r: r["J_D"])
        x = [r["J_D"] for r in rows]
        c.errorbar(x, [r["isolated_fraction"] for r in rows],
                   [r["isolated_fraction_se"] for r in rows], fmt="o-", ms=4, color=cmap[i],
                   label=f"N={N}")
        e.errorbar(x, [r["mean_cluster_size"] for r in rows],
                   [r["mean_cluster_size_se"] for r in rows], fmt="o-", ms=4, color=cmap[i],
                   label=f"N={N}: seen by a random FP")
        e.plot(x, [r["largest_cluster_mean"] for r in rows], "s--", ms=4, mfc="none",
               color=cmap[i], lw=0.8, label=f"N={N}: largest cluster")
    c.set(xlabel="J_D", ylabel="fraction of FPs with no FP one flip away",
          title="(c) isolated FPs (mean over instances)", ylim=(-0.03, 1.03))
    c.legend(fontsize=8)
    e.set(xlabel="J_D", ylabel="cluster size (single-flip components)", yscale="log",
          title="(d) cluster sizes")
    e.legend(fontsize=7, ncol=2)
    return finish(fig, out / "clusters.png")


# ------------------------------------------------------------------------------------------- CLI

def build_parser():
    p = make_parser("python -m validation.clusters", __doc__.split("\n\n")[0],
                    out="results/validation/clusters", seed=0)
    p.add_argument("--N", type=grid_type("--N", minimum=2), default="12,16,20",
                   help=f"sizes (integers, at most {MAX_SPINS})")
    p.add_argument("--J-D", dest="J_D", type=grid_type("--J-D"), default="0,0.25,0.5,1")
    p.add_argument("--instances", type=positive_int, default=20, help="instances per point")
    p.add_argument("--batch", type=positive_int, default=5, help="instances per sweep task")
    p.add_argument("--quantiles", type=grid_type("--quantiles"), default="0.1,0.01",
                   help="top fractions of the FPs ranked by neighbours within max(1, N//10)")
    p.add_argument("--method", choices=METHODS, default="auto",
                   help="neighbour counting: O(M^2) pairs, O(N 2^N) spectral, or the cheaper")
    p.add_argument("--plot-J-D", dest="plot_J_D", type=float, default=None,
                   help="J_D of panels (a), (b) (default: the grid value nearest 0.5)")
    p.add_argument("--no-fp", dest="no_fp", action="store_true",
                   help="skip the Franz-Parisi curves (slow: ~5 s per J_D)")
    add_executor_args(p)
    return p


def _check(args):
    if np.any(args.N != np.round(args.N)):
        raise ValueError(f"--N must be integers, got {','.join(f'{v:g}' for v in args.N)}")
    Ns = sorted({int(v) for v in args.N})
    if Ns[-1] > MAX_SPINS:
        raise ValueError(f"--N: at most {MAX_SPINS} spins for exhaustive enumeration here, got {Ns[-1]}")
    q = [float(v) for v in args.quantiles]
    if any(not 0 < v <= 1 for v in q):
        raise ValueError(f"--quantiles must lie in (0, 1], got {args.quantiles}")
    J_Ds = sorted({float(v) for v in args.J_D})
    if args.method == "spectral" and Ns[-1] > SPECTRAL_MAX_N:
        raise ValueError(f"--method spectral needs N <= {SPECTRAL_MAX_N}")
    pts = [(N, j) for N in Ns for j in J_Ds]
    for N, j in pts:
        m = float(mean_count(N, j))
        if m > MAX_EXPECTED_FP:
            raise ValueError(f"N={N}, J_D={j:g}: E[#FP] = {m:.3g} > {MAX_EXPECTED_FP:.0e}; "
                             "too many fixed points for neighbour counting")
    return pts, list(dict.fromkeys(q))


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    pts, quantiles = _check(args)
    out = Path(args.out)
    nb = -(-args.instances // args.batch)
    J_Ds = sorted({j for _, j in pts})
    fp_tasks = [] if args.no_fp else [Task(_fp_key(j), dict(kind="fp", J_D=j, d_grid=list(FP_D_GRID)))
                                      for j in J_Ds]
    enum_tasks = []
    for N, j in sorted(pts, key=lambda p: -(log_mean_count(p[0], p[1]) + p[0])):   # heavy first
        for b in range(nb):
            enum_tasks.append(Task(_enum_key(N, j, args.batch, b, quantiles),
                                   dict(kind="enum", N=N, J_D=j,
                                        n=min(args.batch, args.instances - b * args.batch),
                                        K=N // 2, K_dense=max(1, N // 10), quantiles=quantiles,
                                        method=args.method)))
    with executor_from_args(args) as ex:
        results = run_sweep(_task, fp_tasks + enum_tasks, out, seed=args.seed, executor=ex,
                            quiet=args.quiet, desc="enumerating")
    fp = {}
    for t in fp_tasks:
        r = results[t.key]
        err = str(r["error"])
        if err:
            task_path(out, t.key).unlink(missing_ok=True)       # not cached: retried next run
            print(f"warning: S_FP failed at J_D={t.params['J_D']:g} ({err}); no theory_fp there",
                  file=sys.stderr)
            continue
        fp[t.params["J_D"]] = r
        if not np.all(r["converged"]):
            bad = np.asarray(r["d"])[~np.asarray(r["converged"], bool)]
            print(f"warning: S_FP not converged at J_D={t.params['J_D']:g}, d = "
                  f"{', '.join(f'{x:g}' for x in bad)}", file=sys.stderr)
    local_rows, cluster_rows = aggregate(results, pts, args.instances, args.batch, quantiles, fp)
    params = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in vars(args).items()
              if k not in ("out", "quiet", "workers", "executor", "scheduler")}
    params["fp_d_grid"] = list(FP_D_GRID)
    write_csv(out / "local.csv", local_rows, params=params, seed=args.seed)
    write_csv(out / "clusters.csv", cluster_rows, params=params, seed=args.seed)
    png = draw(out, local_rows, cluster_rows, quantiles, fp, args.plot_J_D)
    _summary(local_rows, cluster_rows, quantiles)
    print(f"{out / 'local.csv'}\n{out / 'clusters.csv'}\n{png}")
    return 0


def _summary(local_rows, cluster_rows, quantiles):
    Nmax = max(r["N"] for r in cluster_rows)
    qn = _qname(min(quantiles))
    print(f"at N = {Nmax} (s = (1/N) ln mean count; finite-N annealed = (1/N) ln E N2(k)/E N):")
    for cr in sorted((r for r in cluster_rows if r["N"] == Nmax), key=lambda r: r["J_D"]):
        jd = cr["J_D"]
        top = _sel(local_rows, N=Nmax, J_D=jd, reference=qn)
        typ = _sel(local_rows, N=Nmax, J_D=jd, reference="typical")
        fin = np.array([r["log_count_per_spin"] - r["theory_annealed_finiteN"] for r in typ])
        fin = fin[np.isfinite(fin)]
        st = np.array([r["log_count_per_spin"] for r in top])
        smax = f"{st.max():.3f}" if np.any(np.isfinite(st)) else "none (no neighbours)"
        s1 = f"{st[0]:.3f}" if st.size and np.isfinite(st[0]) else "none"
        print(f"  J_D={jd:g}: <#FP>={cr['mean_fp']:.4g} (E N={cr['theory_mean_fp']:.4g}), "
              f"isolated={cr['isolated_fraction']:.3f}, cluster seen={cr['mean_cluster_size']:.3g}; "
              f"{qn}: s(k=1)={s1}, max_d s={smax}; typical - finite-N annealed: "
              + (f"[{fin.min():+.3f}, {fin.max():+.3f}]" if fin.size else "n/a"))


if __name__ == "__main__":
    sys.exit(run(main, prog="python -m validation.clusters"))
