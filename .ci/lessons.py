"""What .ci/execute.py and .ci/check_nbs.py share: which notebooks are lessons, and the hash of a lesson's code.

Standard library only, so that the checks run before anything is installed."""
import hashlib, json, re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT/'nbs'
META_KEY = 'captionlab'  # notebook metadata key; pyproject's [tool.nbdev] allowed_metadata_keys keeps it
FLAGS = ('slow', 'gpu')  # cells the executor and nbdev-test skip (pyproject's tst_flags; read from there when possible)

def _order(p: Path):
    "index first, then the numbered lessons, then any other page (experiments, ...), each group by name"
    rel = p.relative_to(NBS).as_posix()
    return (0 if rel == 'index.ipynb' else 1 if re.match(r'\d', rel) else 2, rel)

def lesson_paths() -> list:
    "Every notebook under nbs/ that nbdev treats as a page (names and folders starting with _ or . are not)"
    found = [p for p in NBS.rglob('*.ipynb')
             if not any(part.startswith(('_', '.')) for part in p.relative_to(NBS).parts)]
    return sorted(found, key=_order)

def src(cell) -> str: return ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']

def code_hash(nb: dict) -> str:
    "sha256 of the notebook's code cells, in order (markdown and outputs left out): what outputs are a function of"
    codes = [src(c) for c in nb['cells'] if c['cell_type'] == 'code']
    return hashlib.sha256(json.dumps(codes, ensure_ascii=False).encode()).hexdigest()

def directives(cell) -> dict:
    "The cell's `#| name value` lines at its top, as {name: value}"
    res = {}
    for line in src(cell).splitlines():
        line = line.strip()
        if not line: continue
        m = re.match(r'#\s*\|\s*([\w-]+):?\s*(.*)', line)
        if not m: break
        res[m.group(1)] = m.group(2).strip()
    return res

def tst_flags() -> tuple:
    "pyproject's [tool.nbdev] tst_flags (the flags nbdev-test skips)"
    try:
        import tomllib
        flags = tomllib.loads((ROOT/'pyproject.toml').read_text())['tool']['nbdev'].get('tst_flags', list(FLAGS))
        return tuple(flags.split() if isinstance(flags, str) else flags)
    except Exception: return FLAGS

def rel(p: Path) -> str:
    try: return Path(p).resolve().relative_to(ROOT).as_posix()
    except ValueError: return str(p)

if __name__ == '__main__': print('\n'.join(rel(p) for p in lesson_paths()))  # the pages, in order (.ci/run)
