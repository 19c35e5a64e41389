"""Checks the notebooks for what breaks the docs build, the lesson format, or the stored outputs; exits 1 listing
each problem.

    python .ci/check_nbs.py            # every page under nbs/
    python .ci/check_nbs.py NB ...     # some (the 10 MB total is then over those)

- nbdev's docs build runs every cell that contains an import: such a cell must hold imports only (or be exported).
- every notebook opens with an H1 title and a '>' summary, and a numbered lesson has its `#| default_exp` (pages
  such as index and experiments export nothing).
- the lessons are committed executed (.ci/execute.py): each records the hash of the code cells it ran, which must
  be the hash of its code cells now; no stored output is an error.
- a cell that draws a figure stores it: a cell not flagged slow/gpu that, outside any def, calls a `plt.` function,
  an axes' `plot`/`imshow`/`bar`/`hist`/`scatter`/..., or a function of the lessons that does (found from its body,
  whatever its name: `show_scenes`, `plot_losses`, a notebook's own `draw_tree`...), has an image/png output, unless
  the same cell calls `plt.close` (it draws for a test, not for the reader). The inline backend shows every figure a
  cell leaves open, so such a cell always has one when executed.
- outputs stay small: all stored outputs together under 10 MB, each PNG under 300 kB.
Notes (not failures): an output that shows a temporary path (it changes at every run)."""
import ast, base64, binascii, json, re, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lessons import META_KEY, lesson_paths, code_hash, src, directives, tst_flags, rel

MAX_TOTAL, MAX_PNG = 10_000_000, 300_000
AX_METHODS = {'plot', 'imshow', 'matshow', 'bar', 'barh', 'hist', 'scatter', 'pcolormesh', 'contour', 'contourf'}

def _tree(code):
    try: return ast.parse('\n'.join(l for l in code.splitlines() if not l.lstrip().startswith(('%', '!'))))
    except SyntaxError: return None

def _calls(nodes, top_level):
    """(name, is_attribute, on_plt, text, closes) of the calls in `nodes`; with `top_level`, not those inside a
    def/class/lambda. `closes`: a `plt.close(...)`, or any `.close(fig)` with an argument (`_pyplot().close(fig)`)"""
    out = []
    def visit(n):
        if top_level and isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)): return
        if isinstance(n, ast.Call):
            f = n.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            on_plt = isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == 'plt'
            closes = name == 'close' and isinstance(f, ast.Attribute) and (on_plt or bool(n.args))
            if name: out.append((name, isinstance(f, ast.Attribute), on_plt, ast.unparse(f), closes))
        for c in ast.iter_child_nodes(n): visit(c)
    for n in nodes: visit(n)
    return out

def _draws(name, is_attr, on_plt, drawers):
    return on_plt or (is_attr and name in AX_METHODS) or name in drawers

def drawing_functions(notebooks) -> set:
    """Names of the functions and methods defined in `notebooks` that leave a figure to show: their body calls a `plt.`
    function, an axes' plot/imshow/..., or another such function (so helpers are found by what they do, whatever
    their name), and never `plt.close` (those save their figures to files: the CLI's reports)"""
    defs = {}
    for nb in notebooks:
        for c in nb['cells']:
            tree = _tree(src(c)) if c['cell_type'] == 'code' else None
            if tree is None: continue
            for n in ast.walk(tree):
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    defs.setdefault(n.name, []).extend(_calls(n.body, top_level=False))
    drawers = set()
    while True:
        new = {k for k, calls in defs.items() if k not in drawers and any(_draws(*c[:3], drawers) for c in calls)
               and not any(c[4] for c in calls)}
        if not new: return drawers
        drawers |= new

def drawing_calls(code: str, drawers=frozenset()) -> set:
    "The calls in `code`, outside any def/class/lambda, that draw a figure ('plt.close' among them if present)"
    tree = _tree(code)
    if tree is None: return set()
    return {'plt.close' if closes else text for name, is_attr, on_plt, text, closes in _calls(tree.body, top_level=True)
            if closes or _draws(name, is_attr, on_plt, drawers)}

def check_format(name, cells, problems):
    first = src(cells[0]) if cells else ''
    if not (cells and cells[0]['cell_type'] == 'markdown' and first.startswith('# ') and '\n> ' in first):
        problems.append(f'{name}: must open with a markdown cell "# Title" and a "> summary" line')
    if re.match(r'\d', Path(name).name) and not any('#| default_exp' in src(c) for c in cells if c['cell_type'] == 'code'):
        problems.append(f'{name}: no #| default_exp cell')
    for i, c in enumerate(cells):
        s = src(c)
        if c['cell_type'] != 'code' or any(d in s for d in ('#| export', '#| exporti', '#| exports', '#| eval: false')): continue
        tree = _tree(s)
        if tree is None: continue
        kinds = {isinstance(n, (ast.Import, ast.ImportFrom)) for n in tree.body}
        has_nested = any(isinstance(n, (ast.Import, ast.ImportFrom)) for t in tree.body if not isinstance(t, (ast.Import, ast.ImportFrom)) for n in ast.walk(t))
        if (True in kinds and False in kinds) or has_nested:
            problems.append(f'{name} cell {i}: imports mixed with other code (the docs build would run this cell): {s.splitlines()[0][:60]!r}')

TMP_PATH = re.compile(r'(/tmp/|/var/folders/|\\Temp\\)\S*')

def check_outputs(name, nb, problems, flags, drawers, notes=None) -> int:
    "Staleness, errors, figures and PNG sizes of one notebook; returns the bytes its outputs take"
    cells, rerun = nb['cells'], f'run python .ci/execute.py {name}'
    rec = nb.get('metadata', {}).get(META_KEY, {}).get('executed')
    if not rec: problems.append(f'{name}: not executed (no stored outputs); {rerun}')
    elif rec.get('code_sha256') != code_hash(nb): problems.append(f'{name}: outputs older than its code; {rerun}')
    size = 0
    for i, c in enumerate(cells):
        outs = c.get('outputs') or []
        size += len(json.dumps(outs, ensure_ascii=False).encode())
        if c['cell_type'] != 'code': continue
        head = src(c).strip().splitlines()[0][:60] if src(c).strip() else ''
        for o in outs:
            text = ''.join(o.get('text', '')) + ''.join(o.get('data', {}).get('text/plain', ''))
            if notes is not None and (m := TMP_PATH.search(text)):
                notes.append(f'note: {name} cell {i}: output shows a temporary path ({m.group(0)[:60]}), which changes at '
                             f'every run and means nothing to a reader')
            if o.get('output_type') == 'error':
                problems.append(f'{name} cell {i}: stored output is an error ({o.get("ename")}: {o.get("evalue", "")[:80]}); {rerun}')
            png = o.get('data', {}).get('image/png')
            if png:
                try: n = len(base64.b64decode(''.join(png) if isinstance(png, list) else png))
                except (binascii.Error, ValueError): n = 0; problems.append(f'{name} cell {i}: image/png output is not base64')
                if n > MAX_PNG:
                    problems.append(f'{name} cell {i}: a {n/1e3:.0f} kB PNG (limit {MAX_PNG/1e3:.0f} kB): draw it smaller '
                                    f'(figsize, fewer panels) or at a lower --dpi: {head!r}')
        if not rec or set(flags) & directives(c).keys(): continue  # not executed yet / not run by design
        calls = drawing_calls(src(c), drawers)
        if calls and 'plt.close' not in calls and not any('image/png' in o.get('data', {}) for o in outs):
            problems.append(f'{name} cell {i}: calls {", ".join(sorted(calls))} but stores no figure (image/png); {rerun}, '
                            f'and check that the cell returns or shows the figure: {head!r}')
    return size

def main(paths):
    problems, notes, total, sizes, flags = [], [], 0, [], tst_flags()
    nbs = {Path(p).resolve(): json.loads(Path(p).read_text(encoding='utf-8')) for p in paths}
    others = [json.loads(p.read_text(encoding='utf-8')) for p in lesson_paths() if p.resolve() not in nbs]
    drawers = drawing_functions(list(nbs.values()) + others)  # the library's drawing functions are defined in the lessons
    for p, nb in nbs.items():
        name = rel(p)
        check_format(name, nb['cells'], problems)
        size = check_outputs(name, nb, problems, flags, drawers, notes)
        total += size; sizes.append((size, name))
    if total > MAX_TOTAL:
        top = ', '.join(f'{n} {s/1e6:.1f} MB' for s, n in sorted(sizes, reverse=True)[:4])
        problems.append(f'stored outputs take {total/1e6:.1f} MB in all (limit {MAX_TOTAL/1e6:.0f} MB); largest: {top}')
    print('\n'.join(notes + problems) or f'notebooks OK ({len(paths)} notebooks, outputs {total/1e6:.2f} MB)')
    if notes and not problems: print(f'notebooks OK ({len(paths)} notebooks, outputs {total/1e6:.2f} MB; notes are not failures)')
    return 1 if problems else 0

if __name__ == '__main__':
    sys.exit(main([Path(a) for a in sys.argv[1:]] or lesson_paths()))
