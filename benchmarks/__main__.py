"""``python -m benchmarks``: run every benchmark and print one table of figures, ratios and targets.

    python -m benchmarks [--full] [--only enumeration,dynamics,fbp,learning,sparse] [--out results/benchmarks]
                         [--verbose] [--list]

Each benchmark is one of the scripts of this package (``benchmarks/enumeration.py``, ``dynamics.py``,
``fbp.py``, ``learning.py``, ``sparse.py``); its ``main(argv)`` is imported and run in this process with the settings
of the chosen mode, its own CSV (``--out``) is written to ``OUT/<name>.csv`` with its sidecar, and its
rows are turned into rows of one table:

    benchmark | setting | measured | baseline | ratio | target | met | note

``measured`` is the benchmark's figure (seconds, states/s, spin updates/s, ms per AMP sweep, s per
epoch), ``baseline`` the same figure for the plain implementation it is compared with (``~`` when
extrapolated from a part of the work), ``ratio`` = baseline time / measured time (the speed-up), and
``target`` the goal stated in the issues where there is one (``met``: yes / NO / blank when the row has
no target). Modes:

- default (short, about a minute on an idle 2-core machine): smaller baselines and fewer repetitions,
  still at the sizes the targets name (N = 28 and 30 for enumeration, N = 4000 for AMP, H = 1600);
- ``--full``: each script with its own defaults (the settings of the issues; several minutes).

The table is printed and written as ``OUT/table.csv`` with a ``table.meta.json`` sidecar (mode, the
argument list of every benchmark, load average before and after, wall time per benchmark). Timings
are wall-clock: a busy machine inflates them, so the load average is printed with the table.

Exit status 0 when every selected benchmark ran (whether or not its targets were met), 1 when one
could not run (its row says why: missing data names the install command), 2 on bad usage.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

if __package__ in (None, ""):                      # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from toolkit.cli import UsageError, make_parser, run
from toolkit.results import read_csv, write_csv

PROG = "python -m benchmarks"


# ---------------------------------------------------------------------------------------------------
# one table row

@dataclass
class Row:
    """One line of the table. ``value`` in ``unit`` is the figure; ``ratio`` = baseline / measured time."""

    benchmark: str
    setting: str
    metric: str
    value: float
    unit: str
    measured: str                     # the figure as printed
    baseline: str = ""                # the baseline's figure as printed ('~' = extrapolated)
    baseline_value: float = math.nan
    baseline_extrapolated: bool | None = None
    ratio: float = math.nan
    target: str = ""
    target_met: bool | None = None
    note: str = ""

    def record(self) -> dict:
        return {"benchmark": self.benchmark, "setting": self.setting, "metric": self.metric,
                "value": self.value, "unit": self.unit, "baseline_value": self.baseline_value,
                "baseline_extrapolated": "" if self.baseline_extrapolated is None
                else self.baseline_extrapolated,
                "ratio": self.ratio, "target": self.target,
                "target_met": "" if self.target_met is None else self.target_met, "note": self.note}


def _g(x: float, digits: int = 3) -> str:
    return "nan" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}g}"


def _ratio(x: float, sign: str = "x") -> str:
    if math.isnan(x):
        return ""
    return f"{x:.0f}{sign}" if x >= 100 else f"{x:.3g}{sign}"


def _tilde(extrapolated) -> str:
    return "~" if extrapolated in (True, "True", 1) else ""


def _bool(x) -> bool | None:
    if x in ("", None):
        return None
    if isinstance(x, str):
        return x == "True"
    return bool(x)


# ---------------------------------------------------------------------------------------------------
# from each script's CSV rows to table rows (targets from the issues)

ENUM_SECONDS_N, ENUM_SECONDS = 30, 10.0           # issue 2: N = 30 at J_D = 0.5 in <= 10 s
ENUM_RATIO_N, ENUM_RATIO = 28, 10.0               # issue 2: >= 10x the chunked-GEMM baseline at N = 28
DYN_RATE = 10e6                                   # issue 4: >= 10 M spin updates/s, batched async
FBP_N, FBP_SECONDS = 4000, 0.030                  # issue 4: <= 30 ms per AMP sweep at N = 4000
LEARN_H, LEARN_SECONDS = 1600, 45.0               # issue 5: <= 45 s per entangled-MNIST epoch, H = 1600
SPARSE_H, SPARSE_SECONDS = 2000, 55.0             # issue 16: <= 55 s per MNIST epoch, darnax network


def _rows_enumeration(recs: Sequence[Mapping], params: Mapping) -> list[Row]:
    out = []
    for r in recs:
        N, t, tb = int(r["N"]), float(r["fp_seconds"]), float(r["baseline_seconds"])
        ext = _bool(r["baseline_extrapolated"])
        same = _bool(r.get("same_codes"))
        row = Row("enumeration", f"N={N}, J_D={params['J_D']:g}, {params['workers']} workers",
                  "seconds", t, "s", f"{t:.3g} s ({_g(float(r['fp_states_per_s']))} states/s)",
                  baseline=f"{_tilde(ext)}{tb:.3g} s", baseline_value=tb, baseline_extrapolated=ext,
                  ratio=float(r["speedup"]),
                  note=f"{int(r['n_fp'])} FPs" + ("" if same is None else
                                                  ", same as baseline" if same else ", DIFFER FROM BASELINE"))
        if N == ENUM_SECONDS_N:
            row.target, row.target_met = f"<= {ENUM_SECONDS:g} s", t <= ENUM_SECONDS
        elif N == ENUM_RATIO_N:
            row.target, row.target_met = f">= {ENUM_RATIO:g}x baseline", row.ratio >= ENUM_RATIO
        if same is False:                          # a fast wrong answer meets no target
            row.target_met = False
        out.append(row)
    return out


def _rows_dynamics(recs: Sequence[Mapping], params: Mapping) -> list[Row]:
    out = []
    for r in recs:
        rate, b_rate = float(r["fast_updates_per_s"]), float(r["baseline_updates_per_s"])
        ext = _bool(r["baseline_extrapolated"])
        out.append(Row(
            "dynamics", f"N={int(r['N'])}, J_D={float(r['J_D']):g}, R={int(r['replicas'])}, "
                        f"{int(r['max_sweeps'])} sweeps",
            "updates_per_s", rate, "updates/s", f"{rate:.3g} updates/s ({float(r['fast_seconds']):.2g} s)",
            baseline=f"{_tilde(ext)}{b_rate:.3g} updates/s", baseline_value=b_rate,
            baseline_extrapolated=ext, ratio=float(r["speedup"]),
            target=f">= {DYN_RATE / 1e6:g} M updates/s", target_met=rate >= DYN_RATE,
            note=f"{int(r['converged'])}/{int(r['replicas'])} converged"))
    return out


def _rows_fbp(recs: Sequence[Mapping], params: Mapping) -> list[Row]:
    out = []
    for r in recs:
        N, nt = int(r["N"]), int(r["threads"])
        t_amp, t_bp, t_base = float(r["amp_seconds"]), float(r["bp_seconds"]), float(r["baseline_seconds"])
        ext = int(r["baseline_factors"]) < N if not math.isnan(t_base) else None
        row = Row("fbp", f"AMP, N={N}, {nt} thread{'s' if nt > 1 else ''}", "seconds_per_sweep", t_amp,
                  "s/sweep", f"{1e3 * t_amp:.3g} ms/sweep",
                  baseline="" if math.isnan(t_base) else f"{_tilde(ext)}{t_base:.3g} s/sweep",
                  baseline_value=t_base, baseline_extrapolated=ext, ratio=float(r["baseline_over_amp"]),
                  note="" if math.isnan(t_bp) else f"full BP {t_bp:.3g} s/sweep "
                                                   f"({float(r['baseline_over_bp']):.3g}x baseline)")
        if N == FBP_N:
            row.target, row.target_met = f"<= {1e3 * FBP_SECONDS:g} ms/sweep", t_amp <= FBP_SECONDS
        out.append(row)
    return out


def _rows_learning(recs: Sequence[Mapping], params: Mapping) -> list[Row]:
    out = []
    for r in recs:
        H, epoch = int(r["H"]), float(r["batched_seconds_per_epoch"])
        ref = float(r.get("reference_seconds_per_epoch", math.nan) or math.nan)
        ext = _bool(r["extrapolated"])
        preset = r.get("preset") or "1layer_largeP"
        layers = "two-layer chain (lambda_advantage), " if preset == "lambda_advantage" else ""
        row = Row("learning", f"entangled MNIST, {layers}H={H}, {int(r['steps'])} steps, "
                              f"{int(r['threads'])} BLAS thread{'s' if int(r['threads']) != 1 else ''}",
                  "seconds_per_epoch", epoch, "s/epoch",
                  f"{_tilde(ext)}{epoch:.3g} s/epoch ({float(r['batched_ms_per_step']):.3g} ms/step)",
                  baseline="" if math.isnan(ref) else f"~{ref:.3g} s/epoch", baseline_value=ref,
                  baseline_extrapolated=None if math.isnan(ref) else True,
                  ratio=float(r.get("speedup", math.nan) or math.nan),
                  note=f"per-sample reference: {int(r['reference_steps'])} steps"
                  if "reference_steps" in r and r["reference_steps"] != "" else "")
        goal = float(r.get("goal") or LEARN_SECONDS)
        if H == LEARN_H:
            row.target, row.target_met = f"<= {goal:g} s/epoch", epoch <= goal
        out.append(row)
    return out


def _rows_sparse(recs: Sequence[Mapping], params: Mapping) -> list[Row]:
    out = []
    for r in recs:
        H, epoch = int(r["H"]), float(r["seconds_per_epoch"])
        ref = float(r.get("reference_seconds_per_epoch", math.nan) or math.nan)
        row = Row("sparse", f"MNIST, 784-{H}-10 sparse (darnax), {int(r['steps'])} steps",
                  "seconds_per_epoch", epoch, "s/epoch",
                  f"{_tilde(_bool(r['extrapolated']))}{epoch:.3g} s/epoch "
                  f"({float(r['ms_per_step']):.3g} ms/step)",
                  baseline="" if math.isnan(ref) else f"~{ref:.3g} s/epoch", baseline_value=ref,
                  baseline_extrapolated=None if math.isnan(ref) else True,
                  ratio=float(r.get("speedup", math.nan) or math.nan),
                  note="dense masked per-sample reference")
        if H == SPARSE_H:
            row.target, row.target_met = f"<= {SPARSE_SECONDS:g} s/epoch", epoch <= SPARSE_SECONDS
        out.append(row)
    return out


@dataclass(frozen=True)
class Benchmark:
    name: str
    module: str
    measures: str
    short: tuple[str, ...]                     # arguments of the default (short) mode
    full: tuple[str, ...] = ()                 # --full: the script's own defaults
    rows: Callable[[Sequence[Mapping], Mapping], list[Row]] = field(default=None, repr=False)


BENCHMARKS: dict[str, Benchmark] = {b.name: b for b in [
    Benchmark("enumeration", "benchmarks.enumeration",
              "exhaustive fixed-point enumeration vs a chunked-GEMM baseline (issue 2)",
              ("--N", "24,28,30", "--baseline-max-N", "24", "--baseline-fraction", "0.00390625"),
              rows=_rows_enumeration),
    Benchmark("dynamics", "benchmarks.dynamics",
              "batched asynchronous dynamics, spin updates/s vs a one-replica loop (issue 4)",
              ("--N", "1000,4000", "--baseline-seconds", "0.5"), rows=_rows_dynamics),
    Benchmark("fbp", "benchmarks.fbp",
              "one AMP sweep of focusing BP vs a scalar factor-by-factor loop (issue 4)",
              ("--N", "1000,4000", "--threads", "1", "--amp-sweeps", "10", "--baseline-seconds", "1"),
              rows=_rows_fbp),
    Benchmark("learning", "benchmarks.learning",
              "one entangled-MNIST epoch of the learning rule vs a per-sample reference (issue 5)",
              ("--steps", "200", "--baseline-seconds", "4"), rows=_rows_learning),
    Benchmark("sparse", "benchmarks.sparse",
              "one MNIST epoch of darnax's sparse network vs a dense per-sample reference (issue 16)",
              ("--steps", "300", "--baseline-seconds", "4"), rows=_rows_sparse),
]}


# ---------------------------------------------------------------------------------------------------
# running

def run_one(bench: Benchmark, argv: Sequence[str], out_dir: Path, *, verbose: bool = False) -> dict:
    """Run one benchmark's ``main`` with ``argv`` (plus ``--out OUT/<name>.csv``).

    Returns ``{"rows": [Row], "seconds": wall time, "error": message or None, "argv": argv}``. The
    script's own printed table goes to standard error with ``verbose``, else it is dropped.
    """
    csv_path = out_dir / f"{bench.name}.csv"
    argv = [*argv, "--out", str(csv_path)]
    buf = io.StringIO()
    t0 = time.perf_counter()
    error = None
    try:
        mod = import_module(bench.module)
        with contextlib.redirect_stdout(sys.stderr if verbose else buf):
            status = mod.main(argv)
        if status:
            error = f"exit status {status}"
    except SystemExit as exc:                       # argparse rejected the arguments
        error = f"bad arguments {argv} (exit status {exc.code})"
    except Exception as exc:  # noqa: BLE001 - one broken benchmark must not lose the whole table
        msg = (str(exc).splitlines() or [""])[0]
        known = isinstance(exc, (ValueError, OSError))  # user-facing: the message says it all
        error = msg if known and msg else f"{type(exc).__name__}: {msg}"
        if verbose:
            traceback.print_exc()
    seconds = time.perf_counter() - t0
    rows: list[Row] = []
    if error is None:
        meta = json.loads(csv_path.with_name(csv_path.stem + ".meta.json").read_text())
        rows = bench.rows(read_csv(csv_path), meta["params"])
    else:
        rows = [Row(bench.name, " ".join(argv[:-2]) or "defaults", "error", math.nan, "",
                    "did not run (see below)", target_met=None, note=error)]
    return {"rows": rows, "seconds": seconds, "error": error, "argv": argv[:-2]}


def format_table(rows: Sequence[Row]) -> str:
    """The table as aligned text (``met``: yes / NO / blank without a target)."""
    head = ("benchmark", "setting", "measured", "baseline", "ratio", "target", "met", "note")
    lines = [head]
    for r in rows:
        ratio = _ratio(r.ratio)
        met = "" if r.target_met is None else ("yes" if r.target_met else "NO")
        note = "" if r.metric == "error" else r.note
        lines.append((r.benchmark, r.setting, r.measured, r.baseline, ratio, r.target, met, note))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]

    def fmt(line):
        return "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()

    return "\n".join([fmt(lines[0]), fmt(tuple("-" * w for w in widths)), *map(fmt, lines[1:])])


def format_markdown(rows: Sequence[Row]) -> str:
    """The same table in Markdown (for benchmarks/README.md)."""
    out = ["| benchmark | setting | measured | baseline | ratio | target | met | note |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = _ratio(r.ratio, "×")
        met = "" if r.target_met is None else ("yes" if r.target_met else "**no**")
        out.append(f"| {r.benchmark} | {r.setting} | {r.measured} | {r.baseline} | {ratio} | "
                   f"{r.target.replace('<=', '≤').replace('>=', '≥')} | {met} | {r.note} |")
    return "\n".join(out)


def _names(text: str) -> list[str]:
    names = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown or not names:
        raise UsageError(f"--only: unknown benchmark(s) {', '.join(unknown) or repr(text)}; "
                         f"known: {', '.join(BENCHMARKS)}")
    return list(dict.fromkeys(names))


def _load() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on every platform
        return "unknown"


def main(argv=None) -> int:
    p = make_parser(PROG, "Run every benchmark and print one table of figures, baseline ratios and "
                          "targets (short settings; --full for the settings of the issues).",
                    out="results/benchmarks", quiet=True)
    p.add_argument("--full", action="store_true",
                   help="each script with its own defaults (the issues' settings; several minutes)")
    p.add_argument("--only", default=None, metavar="NAME[,NAME]",
                   help=f"run only these benchmarks ({', '.join(BENCHMARKS)})")
    p.add_argument("--verbose", action="store_true", help="show each script's own table on stderr")
    p.add_argument("--markdown", action="store_true", help="also print the table in Markdown")
    p.add_argument("--list", action="store_true", help="list the benchmarks and their arguments, exit")
    args = p.parse_args(argv)
    names = _names(args.only) if args.only is not None else list(BENCHMARKS)
    mode = "full" if args.full else "short"
    if args.list:
        for b in BENCHMARKS.values():
            print(f"{b.name:12s} {b.measures}\n{'':12s} short: {' '.join(b.short) or '(defaults)'}; "
                  f"full: {' '.join(b.full) or '(defaults)'}")
        return 0
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)

    load_before = _load()
    say = (lambda *a: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    say(f"{PROG}: {mode} mode, {', '.join(names)}; load average {load_before} on {os.cpu_count()} CPUs")
    rows: list[Row] = []
    runs: dict[str, dict] = {}
    t_all = time.perf_counter()
    for name in names:
        b = BENCHMARKS[name]
        res = run_one(b, list(b.full if args.full else b.short), out_dir, verbose=args.verbose)
        runs[name] = {"argv": res["argv"], "seconds": res["seconds"], "error": res["error"]}
        rows.extend(res["rows"])
        say(f"  {name}: {res['seconds']:.1f} s" + (f"  ({res['error']})" if res["error"] else ""))
    wall = time.perf_counter() - t_all
    load_after = _load()

    met = [r.target_met for r in rows if r.target_met is not None]
    print(f"{mode} mode, {wall:.0f} s; load average {load_before} before, {load_after} after "
          f"({os.cpu_count()} CPUs); ratio = baseline time / measured time; '~' = extrapolated")
    print(format_table(rows))
    print(f"targets met: {sum(met)} of {len(met)}")
    for name, r in runs.items():
        if r["error"]:
            print(f"{name} did not run: {r['error']}")
    if args.markdown:
        print()
        print(format_markdown(rows))
    path = write_csv(out_dir / "table.csv", [r.record() for r in rows],
                     params={"mode": mode, "only": names, "out": str(out_dir)},
                     benchmarks=runs, load_average_before=load_before, load_average_after=load_after,
                     cpu_count=os.cpu_count(), wall_seconds=wall)
    say(f"{path} (and {path.with_name('table.meta.json').name}, one CSV per benchmark)")
    return 1 if any(r["error"] for r in runs.values()) else 0


if __name__ == "__main__":
    sys.exit(run(main, prog=PROG))
