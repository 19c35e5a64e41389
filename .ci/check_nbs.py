"""Checks the notebooks for what breaks the docs build or the lesson format; exits 1 listing each problem.

- nbdev's docs build runs every cell that contains an import: such a cell must hold imports only (or be exported).
- every notebook opens with an H1 title and a '>' summary, and a module notebook has its `#| default_exp`."""
import ast, json, sys
from pathlib import Path

problems = []
for nb in sorted(Path(__file__).resolve().parent.parent.glob('nbs/*.ipynb')):
    cells = json.loads(nb.read_text())['cells']
    first = ''.join(cells[0]['source']) if cells else ''
    if not (cells and cells[0]['cell_type'] == 'markdown' and first.startswith('# ') and '\n> ' in first):
        problems.append(f'{nb.name}: must open with a markdown cell "# Title" and a "> summary" line')
    if nb.stem != 'index' and not any('#| default_exp' in ''.join(c['source']) for c in cells if c['cell_type'] == 'code'):
        problems.append(f'{nb.name}: no #| default_exp cell')
    for i, c in enumerate(cells):
        src = ''.join(c['source'])
        if c['cell_type'] != 'code' or any(d in src for d in ('#| export', '#| exporti', '#| exports', '#| eval: false')): continue
        try: tree = ast.parse('\n'.join(l for l in src.splitlines() if not l.lstrip().startswith(('%', '!'))))
        except SyntaxError: continue
        kinds = {isinstance(n, (ast.Import, ast.ImportFrom)) for n in tree.body}
        has_nested = any(isinstance(n, (ast.Import, ast.ImportFrom)) for t in tree.body if not isinstance(t, (ast.Import, ast.ImportFrom)) for n in ast.walk(t))
        if (True in kinds and False in kinds) or has_nested:
            problems.append(f'{nb.name} cell {i}: imports mixed with other code (the docs build would run this cell): {src.splitlines()[0][:60]!r}')
print('\n'.join(problems) or 'notebooks OK')
sys.exit(1 if problems else 0)
