"""Numbers in prose that cannot go stale: every percentage or metric value in a page's markdown is printed by one of
that notebook's stored outputs, or its sentence links to where it was measured. Exits 1 listing each one that is not.

    python .ci/check_numbers.py              # index and the lessons (the experiments page is the run log: not checked)
    python .ci/check_numbers.py NB ...       # some notebooks
    python .ci/check_numbers.py --self-test  # show that a doctored copy of a lesson is caught

What counts as a number: a percentage (`96%`, `96.0%`) or a decimal with two or more places (`0.944`, `7.14`), outside
code (`inline` and fenced) and LaTeX math. Such a number passes when its text (without the `%`) appears in a stored
output of the same notebook (a printed line, a table, a figure's alt text), or when its sentence holds a markdown link;
in a table, a link anywhere in the cell covers every row. A version number (`v1.2.3`, `torch 2.14`) is not a result:
the word before it says so (see VERSION_WORDS)."""
import json, re, sys, tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lessons import lesson_paths, rel, src

NUMBER = re.compile(r'(?<![\w.\-/])(\d+(?:\.\d+)?%|\d+\.\d{2,})(?![\w.]*\d)')
CODE = re.compile(r'```.*?```|`[^`\n]*`|\$\$.*?\$\$|\$[^$\n]+\$', re.S)
LINK = re.compile(r'\]\([^)]+\)|<https?://|https?://')
VERSION_WORDS = re.compile(r'(?:torch|torchvision|python|nbdev|version|v|pandas|numpy|cuda|java)[\s≥>=<~]*$', re.I)
SKIP = {'experiments.ipynb'}  # the run log itself: where the links point

def output_text(nb) -> str:
    "All the text a notebook's stored outputs show"
    parts = []
    for c in nb['cells']:
        for o in c.get('outputs') or []:
            parts.append(''.join(o.get('text', '')))
            for k, v in o.get('data', {}).items():
                if k.startswith('text/') or k == 'application/json': parts.append(v if isinstance(v, str) else ''.join(v))
    return '\n'.join(parts)

def sentences(md: str):
    "(text, covered) pieces of a markdown cell: a table (covered when the cell links anywhere), else each sentence"
    cell_links, out, table, para = bool(LINK.search(md)), [], [], []
    def flush_para():
        text = ' '.join(para); para.clear()
        out.extend((s, bool(LINK.search(s))) for s in re.split(r'(?<=[.!?:;])\s+(?=[A-Z(*_\[])', text) if s)
    for line in md.splitlines() + ['']:
        if line.lstrip().startswith('|'): flush_para(); table.append(line); continue
        if table: out.append(('\n'.join(table), cell_links)); table = []
        if not line.strip() or re.match(r'\s*([-*+]|\d+\.)\s|#', line): flush_para() # a paragraph, list item, heading
        if line.strip(): para.append(line.strip())
    return out

def unsupported(nb) -> list:
    "(cell index, number, sentence) for every number of the markdown that no output prints and no link supports"
    shown, bad = output_text(nb), []
    for i, c in enumerate(nb['cells']):
        if c['cell_type'] != 'markdown': continue
        for text, covered in sentences(CODE.sub(' ', src(c))):
            if covered: continue
            for m in NUMBER.finditer(text):
                if VERSION_WORDS.search(text[:m.start()]): continue
                n = m.group(1)
                if n.rstrip('%') not in shown and (i, n) not in {b[:2] for b in bad}: bad.append((i, n, text.strip()))
    return bad

def check(paths) -> list:
    problems = []
    for p in paths:
        if Path(p).name in SKIP: continue
        for i, n, s in unsupported(json.loads(Path(p).read_text(encoding='utf-8'))):
            problems.append(f'{rel(p)} cell {i}: {n} is printed by no output of this notebook and its sentence links '
                            f'nowhere (print it, or link to where it was measured): {s[:110]!r}')
    return problems

def self_test() -> int:
    "Doctor a copy of a lesson (a result typed into its prose) and show that the check catches it"
    p = next(p for p in lesson_paths() if re.match(r'0\d', p.name) and not check([p]))
    nb = json.loads(p.read_text(encoding='utf-8'))
    i = next(i for i, c in enumerate(nb['cells']) if c['cell_type'] == 'markdown')
    nb['cells'][i]['source'] = src(nb['cells'][i]) + '\n\nThe model names 96.4% of the objects, with CIDEr 7.14.'
    with tempfile.TemporaryDirectory() as d:
        q = Path(d)/p.name; q.write_text(json.dumps(nb), encoding='utf-8')
        found = check([q])
    caught = {n for f in found for n in ('96.4%', '7.14') if f' {n} is printed' in f}
    print(f'self-test on a doctored copy of {rel(p)}: ' + ('caught ' + ', '.join(sorted(caught)) if caught else 'MISSED'))
    for f in found: print('  ' + f)
    return 0 if caught == {'96.4%', '7.14'} else 1

if __name__ == '__main__':
    if sys.argv[1:] == ['--self-test']: sys.exit(self_test())
    probs = check([Path(a) for a in sys.argv[1:]] or lesson_paths())
    print('\n'.join(probs) or 'numbers OK: every result in the prose is printed by its notebook or linked')
    sys.exit(1 if probs else 0)
