"""``python -m figures.gallery [--src results] [--dest docs/gallery]``: thumbnails of every figure.

Finds every PNG under ``--src`` (figures written by the toolkit's commands), writes a small
thumbnail of each (``--width`` pixels wide, aspect kept, never enlarged) into ``--dest`` (named
after its path under ``--src``, ``/`` → ``__``) and a ``README.md`` there: a table of thumbnails,
the source file and the command that regenerates it (:func:`command_for`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from toolkit.cli import make_parser, positive_int, run
from toolkit.results import atomic_write

#: file name of a PNG -> command that writes it
COMMANDS = {
    "annealed.png": "python -m validation.annealed",
    "clusters.png": "python -m validation.clusters",
    "phase_diagram.png": "python -m theory.phase_diagram",
    "fig4.png": "python -m figures fig4",
    "fig5.png": "python -m figures fig5",
    "franz_parisi.png": "python -m figures franz_parisi",
    "accessibility.png": "python -m figures accessibility",
    "accessibility_chain.png": "python -m figures accessibility_chain",
    "training.png": "python -m validation.report",
}


def command_for(png: Path, src: Path) -> str:
    """The command that regenerates ``png``: the report's own command line when the PNG sits in a
    ``python -m validation.report`` output directory, else by the figure directory it sits in
    (``<out>/<name>/`` of ``python -m figures <name>``), else by file name (:data:`COMMANDS`), else
    the command recorded in a ``.meta.json`` sidecar next to it."""
    for d in [png.parent, *png.parent.parents]:
        rep = d / "report.md"
        if rep.exists():
            for line in rep.read_text().splitlines():
                if line.startswith("Regenerate with `"):
                    return line.split("`")[1]
            return "python -m validation.report"
        if d == src or src not in d.parents:
            break
    from .__main__ import FIGURES
    if png.parent != src and png.parent.name in FIGURES:     # <out>/<figure name>/..., as figures writes
        return f"python -m figures {png.parent.name}"
    if png.name in COMMANDS:
        return COMMANDS[png.name]
    for meta in sorted(png.parent.glob("*.meta.json")):
        try:
            cmd = json.loads(meta.read_text()).get("command")
        except (OSError, ValueError):
            continue
        if cmd:
            return cmd
    return f"see {png.parent.relative_to(src).as_posix() or '.'}"


def thumbnail(png: Path, dest: Path, width: int) -> Path:
    """A ``width``-pixel-wide copy of ``png`` (aspect kept; never enlarged), written atomically."""
    from PIL import Image
    with Image.open(png) as im:
        im = im.convert("RGBA") if im.mode not in ("RGB", "RGBA") else im
        w, h = im.size
        if w > width:
            im = im.resize((width, max(1, round(h * width / w))), Image.LANCZOS)
        import io
        buf = io.BytesIO()
        im.save(buf, format="PNG", optimize=True)
    return Path(atomic_write(dest, buf.getvalue()))


def find_pngs(src: Path, exclude: Path | None = None) -> list[Path]:
    out = []
    for p in sorted(src.rglob("*.png")):
        if exclude is not None and exclude.resolve() in p.resolve().parents:
            continue
        out.append(p)
    return out


#: figures meant to be read, not glanced at: the gallery also keeps them at full width (>= 1000 px)
READABLE = ("report/grid.png", "report/training/training.png", "fig4.png", "fig3/fig3.png",
            "fig3_paper/fig3.png",
            "fig2.png", "phase_diagram/phase_diagram.png", "accessibility/accessibility.png")
FULL_WIDTH = 1600


def make_gallery(src="results", dest="docs/gallery", width: int = 320,
                 readable=READABLE) -> Path:
    """Thumbnails of every PNG under ``src`` into ``dest`` and ``dest/README.md``; its path. The PNGs
    whose path under ``src`` ends with one of ``readable`` are also copied at full width (at most
    :data:`FULL_WIDTH` px) as ``full__<name>``, and their thumbnails link to that copy."""
    src, dest = Path(src), Path(dest)
    if not src.is_dir():
        raise ValueError(f"--src: no directory {src}")
    pngs = find_pngs(src, exclude=dest)
    if not pngs:
        raise ValueError(f"no PNG under {src}; run the figure commands first (python -m figures all)")
    dest.mkdir(parents=True, exist_ok=True)
    rows = []
    for p in pngs:
        rel = p.relative_to(src).as_posix()
        name = rel.replace("/", "__")
        thumbnail(p, dest / name, width)
        full = None
        if any(rel == r or rel.endswith("/" + r) for r in readable):
            full = "full__" + name
            thumbnail(p, dest / full, FULL_WIDTH)
        rows.append((name, rel, command_for(p, src), full))
    lines = ["# Figure gallery", "",
             f"Thumbnails ({width} px wide) of every figure under `{src.as_posix()}`; the figures "
             "meant to be read link to a full-width copy (click the thumbnail). Regenerate with "
             f"`python -m figures.gallery --src {src.as_posix()} --dest {dest.as_posix()}`.", "",
             "| figure | file | command |", "|---|---|---|"]
    lines += [f"| {f'[![{rel}]({name})]({full})' if full else f'![{rel}]({name})'} | `{rel}` | "
              f"`{cmd}` |" for name, rel, cmd, full in rows]
    return Path(atomic_write(dest / "README.md", ("\n".join(lines) + "\n").encode()))


def main(argv=None) -> int:
    p = make_parser("python -m figures.gallery", __doc__.split("\n\n")[0])
    p.add_argument("--src", default="results", help="directory searched for PNGs (recursively)")
    p.add_argument("--dest", default="docs/gallery", help="thumbnails and README.md go here")
    p.add_argument("--width", type=positive_int, default=320, help="thumbnail width in pixels")
    args = p.parse_args(argv)
    path = make_gallery(args.src, args.dest, args.width)
    if not args.quiet:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(run(main, prog="python -m figures.gallery"))
