"""Builds the docs' processed notebooks (`nbdev-proc-nbs`, into _proc/) and checks what a reader of the site
would trip on; exits 1 listing each problem.

    python .ci/check_docs.py             # nbdev-proc-nbs, then the checks
    python .ci/check_docs.py --no-proc   # check the _proc/ already there

Quarto (which renders _proc/ into the site) is not needed: where it is not installed, nbdev-proc-nbs is given a
stand-in `quarto` on PATH, because it would otherwise try to install Quarto with sudo.

- dead links: a link to a page of this site (`https://<doc host>/<page>.html#anchor`, `X.ipynb`, `X.html`,
  `#anchor`) whose page is not built, or whose anchor is on no heading of that page. nbdev links every `name` in
  backticks that the library defines, private names too, to `<page>.html#name` (lowercased); show_doc headings get
  their anchor from Pandoc's rule (lowercase; only letters, digits, `_-.`; everything before the first letter
  dropped), so a private `_name` never has one;
- source links (`https://github.com/<user>/<repo>/blob/<branch>/<file>#L<n>`) to a file or line that does not exist;
- images (`![..](path)`, `<img src=..>`) that do not exist;
- `__main__.` in a rendered signature (a class defined in the notebook, used as an annotation);
- show_doc titles: the heading is not the name show_doc was given, or is a private name (no anchor, and a reader
  sees an underscore name);
- pages: every notebook has a title, appears in nbs/sidebar.yml, and every sidebar entry exists;
- what a reader sees of a page (from the notebooks in nbs/): a shown code cell that only sets up the tests (one
  thread, `HF_HUB_OFFLINE`, warnings filters: give it `#| hide`); an output with terminal colour codes; a widget
  whose cell, and the code cell after it, store nothing a static page can show (no image, HTML or text beside
  the widget: the site has no kernel); a numbered lesson that does not open with what you will learn or end with a "Next:" link; a picture
  linked by its raw GitHub URL (as the README must) that is not in the repository."""
import json, os, re, shutil, stat, subprocess, sys, tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lessons import ROOT, NBS, lesson_paths, src

PROC = ROOT/'_proc'
FENCE = re.compile(r'^\s*(```|~~~)')
HEADING = re.compile(r'^(#{1,6})\s+(.*?)\s*(?:\{([^}]*)\})?\s*#*\s*$')
MD_LINK = re.compile(r'(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)')
HTML_LINK = re.compile(r'''<(a|img)\b[^>]*?\b(href|src)\s*=\s*["']([^"']+)["']''', re.I)
SHOW_DOC = re.compile(r'^\s*show_doc\(\s*([\w.]+)\s*(,[^)]*)?\)', re.M)

def pandoc_id(text: str) -> str:
    "The id Pandoc (and so Quarto) gives a heading with this text (its auto_identifiers extension)"
    text = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', text)   # links and images: their text
    text = re.sub(r'<[^>]+>', '', text).replace('`', '').replace('*', '')
    text = ''.join(c for c in text.lower().replace('\xa0', ' ') if c.isalnum() or c in '_-. ' or c.isspace())
    text = '-'.join(text.split())
    while text and not text[0].isalpha(): text = text[1:]
    return text or 'section'

def md_lines(md: str):
    "The lines of `md` outside code fences"
    fenced = False
    for line in md.splitlines():
        if FENCE.match(line): fenced = not fenced; continue
        if not fenced: yield line

def strip_code_spans(line: str) -> str:
    "`line` with the link syntax inside inline code taken out (a link written inside backticks is not a link)"
    return re.sub(r'(`+)(?!`).*?(?<!`)\1(?!`)', lambda m: re.sub(r'[\[\]()]', '', m.group(0)), line)

def texts(nb):
    "(cell index, kind, text) of what Quarto renders as markdown or HTML: markdown cells, markdown/HTML outputs"
    for i, c in enumerate(nb['cells']):
        s = ''.join(c['source'])
        if c['cell_type'] == 'markdown': yield i, 'md', s
        for o in c.get('outputs', []):
            d = o.get('data', {})
            if 'text/markdown' in d: yield i, 'md', ''.join(d['text/markdown'])
            elif 'text/html' in d: yield i, 'html', ''.join(d['text/html'])

def cell_names(rel, nb) -> list:
    """For each cell of _proc/rel, how to find it in nbs/rel: its index there, or the cell it follows (show_doc
    cells that nbdev inserts after an exported definition have no counterpart)"""
    try: ids = {c.get('id'): i for i, c in enumerate(json.loads((NBS/rel).read_text(encoding='utf-8'))['cells'])}
    except (OSError, ValueError): ids = {}
    names, last = [], None
    for c in nb['cells']:
        i = ids.get(c.get('id'))
        if i is not None: last = i; names.append(f'nbs/{rel} cell {i}')
        else: names.append(f'nbs/{rel} (the show_doc after cell {last})' if last is not None else f'nbs/{rel} (page header)')
    return names

def frontmatter(nb) -> dict:
    raw = next((''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'raw'), '')
    m = re.match(r'\s*---\n(.*?)\n---', raw, re.S)
    if not m: return {}
    import yaml
    return yaml.safe_load(m.group(1)) or {}

def proc():
    "Run nbdev-proc-nbs (with a stand-in quarto where none is installed); returns its exit status"
    env = dict(os.environ, HF_HUB_OFFLINE='1', MPLBACKEND=os.environ.get('MPLBACKEND', 'Agg'))
    stub = None
    if not shutil.which('quarto'):
        stub = Path(tempfile.mkdtemp())
        (stub/'quarto').write_text('#!/bin/sh\necho "quarto is not installed (stand-in from .ci/check_docs.py)" >&2\nexit 1\n')
        (stub/'quarto').chmod(stat.S_IRWXU)
        env['PATH'] = f'{stub}{os.pathsep}{env["PATH"]}'
    try:
        r = subprocess.run(['nbdev-proc-nbs'], cwd=ROOT, env=env, capture_output=True, text=True)
        out = '\n'.join(l for l in (r.stdout + r.stderr).splitlines() if l.strip())
        if out: print(out)
        return r.returncode
    finally:
        if stub: shutil.rmtree(stub, ignore_errors=True)

def config():
    from nbdev.config import get_config
    cfg = get_config(ROOT)
    return (cfg.doc_host + cfg.doc_baseurl).rstrip('/') + '/', cfg.git_url.rstrip('/'), cfg.get('branch') or 'main', cfg

def check(problems: list):
    doc_url, git_url, branch, cfg = config()
    src_link = re.compile(re.escape(git_url) + r'/(?:blob|tree)/' + re.escape(branch) + r'/([^#?]+)(?:#L(\d+))?')
    pages, anchors, nbs = {}, {}, {}  # page html name -> notebook; page -> anchors; notebook rel path -> data
    for p in lesson_paths():
        rel = p.relative_to(NBS).as_posix()
        pp = PROC/rel
        if not pp.exists(): problems.append(f'_proc/{rel}: missing (nbdev-proc-nbs did not process nbs/{rel})'); continue
        nb = json.loads(pp.read_text(encoding='utf-8'))
        fm = frontmatter(nb)
        page = (Path(rel).parent/(fm.get('output-file') or Path(rel).with_suffix('.html').name)).as_posix()
        if not fm.get('title'): problems.append(f'nbs/{rel}: the page has no title (a "# Title" first cell)')
        pages[page], nbs[rel] = rel, (nb, page)
        seen, ids = {}, set()
        for _, kind, t in texts(nb):
            if kind == 'html':
                ids.update(re.findall(r'''\bid\s*=\s*["']([^"']+)["']''', t)); continue
            for line in md_lines(t):
                m = HEADING.match(line)
                if not m: continue
                attrs = m.group(3) or ''
                explicit = re.search(r'#([\w.:-]+)', attrs)
                hid = explicit.group(1) if explicit else pandoc_id(m.group(2))
                if not explicit and hid in seen: seen[hid] += 1; hid = f'{hid}-{seen[hid]}'
                else: seen.setdefault(hid, 0)
                ids.add(hid)
        anchors[page] = ids

    def target(rel, url):
        "(page, anchor) for a link to this site, None for a link elsewhere, or a problem string"
        if url.startswith(doc_url) or url + '/' == doc_url:
            path, _, anchor = url[len(doc_url):].partition('#'); base = ''; path = path or 'index.html'
        elif re.match(r'^[a-z][a-z0-9+.-]*:', url, re.I) or url.startswith('//'): return None
        else: path, _, anchor = url.partition('#'); base = Path(rel).parent.as_posix()
        path = path.split('?')[0]
        if not path: return nbs[rel][1], anchor
        full = os.path.normpath(os.path.join(base, path)).replace(os.sep, '/')
        if full.endswith('.ipynb'):
            if full in nbs: return nbs[full][1], anchor
            return f'links to {path}, which is not a page (no nbs/{full})'
        if full.endswith('.html') or not Path(full).suffix:
            full = full if full.endswith('.html') else (full.rstrip('/') + '/index.html').lstrip('/')
            if full in pages: return full, anchor
            return f'links to {url}, a page the site does not have (pages: {", ".join(sorted(pages))})'
        if (NBS/full).exists() or (PROC/full).exists(): return None
        return f'links to {path}, which does not exist (nbs/{full})'

    for rel, (nb, page) in nbs.items():
        names = cell_names(rel, nb)
        for i, kind, t in texts(nb):
            lines = list(md_lines(t)) if kind == 'md' else [t]
            for line in lines:
                links = []
                if kind == 'md':
                    body = strip_code_spans(line)
                    links += [(bool(m.group(1)), m.group(3), m.group(2)) for m in MD_LINK.finditer(body)]
                else: body = line
                links += [(m.group(1).lower() == 'img', m.group(3), '') for m in HTML_LINK.finditer(body)]
                for is_img, url, text in links:
                    if url.startswith('data:'): continue
                    where = names[i]
                    sm = src_link.match(url)
                    if sm:
                        f = ROOT/sm.group(1)
                        if not f.exists(): problems.append(f'{where}: source link to {sm.group(1)}, not in the repository')
                        elif sm.group(2) and int(sm.group(2)) > len(f.read_text(encoding='utf-8').splitlines()):
                            problems.append(f'{where}: source link to {sm.group(1)} line {sm.group(2)}, past its end')
                        continue
                    if is_img and not re.match(r'^[a-z]+:', url):
                        f = os.path.normpath(os.path.join(Path(rel).parent.as_posix(), url.split('#')[0]))
                        if not (NBS/f).exists(): problems.append(f'{where}: image {url} does not exist (nbs/{f})')
                        continue
                    t_ = target(rel, url)
                    if t_ is None: continue
                    if isinstance(t_, str): problems.append(f'{where}: {t_}'); continue
                    tpage, anchor = t_
                    if anchor and anchor not in anchors.get(tpage, ()):
                        hint = (' (a private name: Pandoc drops the leading underscore from anchors, so it has none; '
                                'leave the name out of backticks or link a public one)') if anchor.startswith('_') \
                            else f' (no heading of {tpage} has that anchor; add a show_doc for it there, or leave it out of backticks)' \
                            if text.startswith('`') else f' (no heading of {tpage} has that anchor)'
                        problems.append(f'{where}: dead link [{text}]({url}){hint}')
        for i, c in enumerate(nb['cells']):
            for o in c.get('outputs', []):
                md = ''.join(o.get('data', {}).get('text/markdown', ''))
                if not md: continue
                heads = [m.group(2) for m in map(HEADING.match, md_lines(md)) if m]
                if '__main__.' in md:
                    found = sorted(set(re.findall(r'(\w+:)?__main__\.([\w.]+)', md)), key=str)
                    problems.append(f'{names[i]}: rendered signature of {heads[0] if heads else "?"} shows '
                                    + ', '.join(f'{a}__main__.{b}' for a, b in found)
                                    + ' (a class defined in the notebook used as an annotation)')
                sd = SHOW_DOC.search(''.join(c['source']))
                if heads and sd and 'name=' not in (sd.group(2) or '') and heads[0].strip('` ') != sd.group(1):
                    problems.append(f'{names[i]}: show_doc({sd.group(1)}) is titled {heads[0]!r}')
                if heads and heads[0].strip('` ').split('.')[-1].startswith('_') and not heads[0].strip('` ').split('.')[-1].startswith('__'):
                    problems.append(f'{names[i]}: show_doc title {heads[0]!r} is a private name (it gets no anchor)')

    sb = NBS/'sidebar.yml'
    if cfg.get('custom_sidebar') and sb.exists():
        import yaml
        def entries(x):
            if isinstance(x, str): yield x
            elif isinstance(x, list):
                for y in x: yield from entries(y)
            elif isinstance(x, dict):
                if 'href' in x: yield x['href']
                for k in ('contents', 'file'):
                    if k in x: yield from entries(x[k])
        listed = set(entries(((yaml.safe_load(sb.read_text()) or {}).get('website') or {}).get('sidebar', {}).get('contents', [])))
        for e in sorted(listed):
            if not (NBS/e).exists(): problems.append(f'nbs/sidebar.yml: lists {e}, which does not exist')
        for rel in nbs:
            if rel not in listed: problems.append(f'nbs/sidebar.yml: does not list {rel} (the page is built, but no menu leads to it)')

SETUP = re.compile(r"""^\s*(torch\.set_num_threads\(|os\.environ(\.setdefault\(|\[)\s*['"]HF_HUB_OFFLINE|"""
                   r"""huggingface_hub\.constants\.HF_HUB_OFFLINE\s*=|warnings\.(filterwarnings|simplefilter)\(|_\s*=\s*os\.environ)""")
ANSI = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')
STATIC = ('image/png', 'image/svg+xml', 'image/jpeg', 'text/html', 'text/markdown')

def reader_view(problems: list):
    "What a reader of the site sees of each page, from its notebook: set-up code, colour codes, empty widgets, a lesson's ends"
    _, git_url, branch, _ = config()
    raw = git_url.replace('https://github.com/', 'https://raw.githubusercontent.com/') + f'/{branch}/'
    for p in lesson_paths():
        rel, nb = p.relative_to(NBS).as_posix(), json.loads(p.read_text(encoding='utf-8'))
        cells = nb['cells']
        for i, c in enumerate(cells):
            if c['cell_type'] != 'code': continue
            s = src(c); lines = [l for l in s.splitlines() if l.strip() and not l.lstrip().startswith('#')]
            hidden = re.search(r'^#\|\s*(hide|echo:\s*false|include:\s*false)', s, re.M)
            if lines and not hidden and all(SETUP.match(l) for l in lines):
                problems.append(f'nbs/{rel} cell {i}: shows the reader test set-up only ({lines[0].strip()[:50]!r}): '
                                'give it #| hide')
            outs = c.get('outputs') or []
            text = ''.join(''.join(o.get('text', '')) + ''.join(o.get('data', {}).get('text/plain', '')) for o in outs)
            if ANSI.search(text): problems.append(f'nbs/{rel} cell {i}: an output holds terminal colour codes')
            widget = any('application/vnd.jupyter.widget-view+json' in o.get('data', {}) for o in outs)
            static = any(k in o.get('data', {}) for o in outs for k in STATIC) or any(
                o.get('output_type') == 'stream' and ANSI.sub('', ''.join(o.get('text', ''))).strip() for o in outs)
            nxt = next((d for d in cells[i + 1:] if d['cell_type'] == 'code'), {}) # or the code cell right after it
            static = static or any(k in o.get('data', {}) for o in nxt.get('outputs') or [] for k in STATIC[:3])
            if widget and not static:
                problems.append(f'nbs/{rel} cell {i}: a widget and nothing a static page can show (the site has no '
                                'kernel: show its frames, or an image, beside it)')
        for c in cells: # the README's pictures are absolute URLs (the package index has no repository files)
            if c['cell_type'] != 'markdown': continue
            for f in re.findall(re.escape(raw) + r'([^)\s"]+)', src(c)):
                if not (ROOT/f).exists(): problems.append(f'nbs/{rel}: links {raw}{f}, and there is no {f} in the repository')
        if re.match(r'\d', rel):
            md = [c for c in cells if c['cell_type'] == 'markdown']
            if not md or 'you will learn' not in src(md[0]).lower():
                problems.append(f'nbs/{rel}: its first cell does not say what you will learn')
            if not cells or cells[-1]['cell_type'] != 'markdown' or not re.search(r'Next:.*?\]\(', src(cells[-1]), re.S):
                problems.append(f'nbs/{rel}: does not end with a markdown "Next:" link to what comes next')

def main():
    if '--no-proc' not in sys.argv:
        if proc(): print('nbdev-proc-nbs failed'); return 1
    problems = []
    check(problems)
    reader_view(problems)
    print('\n'.join(problems) or f'docs OK ({len(lesson_paths())} pages in _proc/)')
    return 1 if problems else 0

if __name__ == '__main__': sys.exit(main())
