"""Re-execute lessons and store their outputs in the notebooks, as a test run would produce them.

    python .ci/execute.py                          # every page: nbs/index.ipynb, nbs/[0-9]*.ipynb, then the others
    python .ci/execute.py nbs/03_attention.ipynb   # some
    python .ci/execute.py --dpi 100 NB ...         # sharper figures (default 80 dots per inch)

Each notebook runs in a fresh process, in its own folder, the way `nbdev-test` runs it: nbdev's `nb_test_cells`
picks the cells (those flagged with pyproject's tst_flags, `#| slow` and `#| gpu`, are skipped and their outputs
cleared), execnb's `CaptureShell` runs them (IPython profile, cell timeout and IN_TEST=1 as nbdev-test sets them),
with HF_HUB_OFFLINE=1. Figures are stored as plain PNGs at `--dpi` (not the 2x "retina" PNGs of nbdev-test, which
would be four times the pixels). A notebook is written only when every cell ran without an error; it is then
cleaned with `nbdev-clean`, so `nbdev-export && nbdev-clean` leaves it unchanged, and its metadata records
`captionlab.executed`: the sha256 of its code cells (.ci/lessons.py `code_hash`), the date and the captionlab
version. `.ci/check_nbs.py` fails when that hash no longer matches the code.

Exits 1 if any notebook failed (the others are still executed and written)."""
import argparse, json, os, subprocess, sys, time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lessons import ROOT, META_KEY, lesson_paths, code_hash, rel

DPI = 80

def _env():
    env = dict(os.environ, HF_HUB_OFFLINE='1', PYTHONWARNINGS=os.environ.get('PYTHONWARNINGS', 'ignore::DeprecationWarning'))
    # the notebook's own matplotlib is switched to the inline backend by CaptureShell; subprocesses that its cells
    # start (the CLI) draw off-screen, as under .ci/run
    env['MPLBACKEND'] = 'Agg'
    # this interpreter's scripts first (captionlab, nbdev-*), as in an activated virtual environment
    env['PATH'] = os.pathsep.join([str(Path(sys.executable).parent), env.get('PATH', '')])
    return env

def execute_one(fn: Path, dpi: int) -> int:
    "Run in a fresh process: execute `fn` and write it back. Returns the exit status."
    from fastcore.foundation import working_directory
    from fastcore.nbio import write_nb
    from nbdev.config import get_config
    from nbdev.process import NBProcessor
    from nbdev.test import nb_test_cells
    from execnb.shell import CaptureShell

    cfg = get_config(ROOT)  # the project's settings, also for a copy of a notebook outside nbs/
    flags = cfg.tst_flags.split() if isinstance(cfg.tst_flags, str) else list(cfg.tst_flags)
    fn = Path(fn).resolve()
    nb = NBProcessor(fn, rm_directives=False, process=True).nb  # what nbdev-test runs
    run = {c.idx_ for c in nb_test_cells(fn, flags)}
    os.environ['IN_TEST'] = '1'
    if str(cfg.config_path) not in sys.path: sys.path.insert(0, str(cfg.config_path))
    shell = CaptureShell(fn, mpl_format='png', profile=bool(cfg.exec_profile))
    import matplotlib
    matplotlib.rcParams['figure.dpi'] = dpi
    t0 = time.time()
    try:
        with working_directory(fn.parent):
            shell.run_all(nb, exc_stop=True, preproc=lambda c: c.idx_ not in run, cell_timeout=cfg.cell_timeout or None)
    except BaseException:
        sys.stderr.write((shell.prettytb(fname=fn) or '') + '\n')
        print(f'FAILED {rel(fn)}: not written ({time.time()-t0:.0f} s)')
        return 1
    for c in nb.cells:  # skipped cells: no outputs (the stored outputs are those of one run)
        if c.cell_type == 'code' and c.idx_ not in run: c.outputs, c.execution_count = [], None
    import captionlab
    nb.metadata[META_KEY] = {**nb.metadata.get(META_KEY, {}), 'executed': {
        'code_sha256': code_hash(nb), 'date': date.today().isoformat(), 'captionlab': captionlab.__version__}}
    tmp = fn.with_name(fn.name + '.tmp')  # written whole, then moved over the notebook
    write_nb(nb, tmp); os.replace(tmp, fn)
    from nbdev.clean import nbdev_clean
    with working_directory(ROOT): nbdev_clean.__wrapped__(fname=str(fn))  # nbdev-clean, with the project's settings
    again = json.loads(fn.read_text(encoding='utf-8'))  # nbdev-clean must have kept the outputs and the record
    if again['metadata'].get(META_KEY, {}).get('executed', {}).get('code_sha256') != code_hash(again):
        print(f'FAILED {rel(fn)}: nbdev-clean dropped the execution record or changed the code (see pyproject '
              '[tool.nbdev] allowed_metadata_keys)'); return 1
    n_img = sum('image/png' in o.get('data', {}) for c in again['cells'] for o in c.get('outputs', []))
    size = sum(len(json.dumps(c.get('outputs', []))) for c in again['cells'])
    print(f'executed {rel(fn)}: {len(run)} cells run, {sum(c.cell_type == "code" for c in nb.cells) - len(run)} '
          f'skipped, {n_img} figures, outputs {size/1e3:.0f} kB ({time.time()-t0:.0f} s)')
    return 0

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('notebooks', nargs='*', help='notebooks to execute (default: every page under nbs/)')
    ap.add_argument('--dpi', type=int, default=DPI, help=f'figure resolution (default {DPI})')
    ap.add_argument('--one', action='store_true', help=argparse.SUPPRESS)  # the per-notebook worker
    a = ap.parse_args()
    if a.one: sys.exit(execute_one(Path(a.notebooks[0]), a.dpi))
    nbs = [Path(p) for p in a.notebooks] or lesson_paths()
    missing = [str(p) for p in nbs if not p.is_file()]
    if missing: sys.exit(f'no such notebook: {", ".join(missing)}')
    failed = []
    for p in nbs:
        r = subprocess.run([sys.executable, __file__, '--one', '--dpi', str(a.dpi), str(p)], env=_env())
        if r.returncode: failed.append(rel(p))
    print(f'{len(nbs) - len(failed)} executed, {len(failed)} failed' + (f': {" ".join(failed)}' if failed else ''))
    sys.exit(1 if failed else 0)

if __name__ == '__main__': main()
