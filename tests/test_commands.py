"""The user-facing commands: defaults run, outputs exist, bad input gets one line and exit 2."""

import subprocess
import sys

import numpy as np
import pytest

from toolkit.results import read_csv


def _cmd(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_phase_diagram_default_grid(tmp_path):
    from theory.phase_diagram import main
    assert main(["--out", str(tmp_path), "--quiet", "--layers", "core,chain,local"]) == 0
    for name in ("core", "chain", "local"):
        assert (tmp_path / f"{name}.csv").exists() and (tmp_path / f"{name}.meta.json").exists()
    assert (tmp_path / "phase_diagram.png").stat().st_size > 10_000
    chain = read_csv(tmp_path / "chain.csv")
    assert len(chain) == 46 * 41
    r = next(r for r in chain if r["J_D"] == 0 and abs(r["lam"] - 1.0) < 1e-12)
    assert r["S_column"] == pytest.approx(0.38258, abs=5e-6)


def test_phase_diagram_transition_layer_quick(tmp_path):
    from theory.phase_diagram import main
    argv = ["--out", str(tmp_path), "--quiet", "--layers", "transition", "--transition-quality",
            "quick", "--transition-J-D", "0.05", "--transition-line", "0", "--workers", "2"]
    assert main(argv) == 0
    rows = {r["critical"]: r for r in read_csv(tmp_path / "transition.csv")}
    # on d ≥ 0.03 only: J_c(core) ≈ 0.058, λ_c(J_D = 0.05) ≈ 0.2 (the fine grid moves both a little)
    assert rows["J_D"]["converged"] and 0.05 < rows["J_D"]["value"] < 0.07
    assert rows["lam"]["converged"] and 0.1 < rows["lam"]["value"] < 0.3
    # each row names the coordinate its value ± uncertainty measures, and what the grid term is
    assert rows["J_D"]["axis"] == "J_D" and rows["lam"]["axis"] == "lam"
    assert all(r["grid_measured"] in (0, 1) and r["failed_points"] == 0 for r in rows.values())
    assert (tmp_path / "phase_diagram.png").stat().st_size > 10_000
    cached = list((tmp_path / "transition_cache" / "quick").glob("*.npz"))
    assert len(cached) >= 4
    assert main(argv) == 0  # rerun from the cache: same numbers
    again = {r["critical"]: r for r in read_csv(tmp_path / "transition.csv")}
    assert again["J_D"]["value"] == rows["J_D"]["value"]


@pytest.mark.parametrize("args", [["--J-D", "nan"], ["--J-D", "0,inf"], ["--lam", "-1,0"],
                                  ["--J-D", "1:2"], ["--layers", "nope"], ["--kappa", "nan"],
                                  ["--transition-quality", "best"]])
def test_phase_diagram_bad_input(tmp_path, args):
    res = _cmd("theory.phase_diagram", "--out", str(tmp_path), *args)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0] and "Traceback" not in res.stderr


def test_negative_grid_values_on_the_command_line(tmp_path):
    from theory.phase_diagram import main
    assert main(["--out", str(tmp_path), "--quiet", "--no-plot", "--layers", "core",
                 "--J-D", "-0.5:1:4"]) == 0
    assert [r["J_D"] for r in read_csv(tmp_path / "core.csv")] == [-0.5, 0.0, 0.5, 1.0]


def test_help_for_every_command():
    for mod in ("theory.phase_diagram", "figures", "validation.annealed"):
        res = _cmd(mod, "--help")
        assert res.returncode == 0 and "usage" in res.stdout


def test_figures_list_and_quick(tmp_path):
    res = _cmd("figures", "--list")
    assert res.returncode == 0 and "fig5" in res.stdout
    res = _cmd("figures", "all", "--quick", "--quiet", "--out", str(tmp_path), timeout=900)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "fig5.png").exists() and (tmp_path / "fig5.csv").exists()
    assert (tmp_path / "phase_diagram" / "phase_diagram.png").exists()
    assert (tmp_path / "report_quick" / "grid.png").stat().st_size > 10_000
    assert (tmp_path / "report_quick" / "chain" / "thresholds.csv").exists()
    fig4 = read_csv(tmp_path / "fig4.csv")
    assert {(r["J_D"], r["lam"], r["L"]) for r in fig4} >= {(0.05, 0.0, 1), (0.0, 0.45, 2)}
    assert {r["part"] for r in fig4} >= {"numerical", "asymptotic"}  # issue 15: down to d → 0
    assert (tmp_path / "fig4.png").stat().st_size > 10_000
    res = _cmd("figures", "nope")
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1


def test_validation_annealed_quick(tmp_path):
    from validation.annealed import main
    argv = ["--out", str(tmp_path), "--quiet", "--N", "8,10", "--J-D", "0.3", "--chain-N", "4",
            "--lam", "0.7", "--instances", "60", "--batch", "20", "--workers", "1"]
    assert main(argv) == 0
    counts = read_csv(tmp_path / "counts.csv")
    assert len(counts) == 3 and all(abs(r["z"]) < 4 for r in counts)
    pairs = read_csv(tmp_path / "pairs.csv")
    assert len(pairs) == 9 + 11
    # rerun: every task is loaded from disk, same numbers
    assert main(argv) == 0
    assert read_csv(tmp_path / "counts.csv") == counts


def test_validation_refuses_too_many_spins(tmp_path):
    res = _cmd("validation.annealed", "--out", str(tmp_path), "--N", "31")
    assert res.returncode == 2 and "spins" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def _actions(parser):
    import argparse
    for a in parser._actions:
        yield a
        if isinstance(a, argparse._SubParsersAction):
            for sub in a.choices.values():
                yield from _actions(sub)


def test_help_states_one_default_per_option_and_none_for_flags():
    # issue 16: "(default 100) (default: None)" and "--no-x (default: True)" read wrongly
    from numerics import accessibility
    from numerics.learning import datasets, train
    from numerics.learning.experiments import cli
    from theory import phase_diagram
    from toolkit.cli import HelpFormatter
    from validation import annealed, clusters, report
    parsers = [accessibility.build_parser(), datasets._parser(), cli._parser(), train._parser(),
               phase_diagram.build_parser(), report.build_parser(), annealed.build_parser(),
               clusters.build_parser()]
    seen = 0
    for p in parsers:
        fmt = HelpFormatter(p.prog)
        for a in _actions(p):
            if not a.option_strings or a.help is None:
                continue
            text = fmt._expand_help(a).lower()
            seen += 1
            assert text.count("default") <= 1, (p.prog, a.option_strings, text)
            assert "default: none" not in text, (p.prog, a.option_strings, text)
            if a.nargs == 0:
                assert "(default: true)" not in text and "(default: false)" not in text
    assert seen > 100
    flag = next(a for a in phase_diagram.build_parser()._actions
                if "--no-transition-core" in a.option_strings)
    assert "default" not in HelpFormatter("x")._expand_help(flag).lower()
