"""Render pages of _proc/ (after `nbdev-proc-nbs`) to standalone HTML with Pandoc, close to what Quarto makes of
them, to look at the site where Quarto is not installed.

    python tools/preview_html.py _proc/03_attention.ipynb ... [--out DIR]   # DIR/attention.html ... (default _proc/_preview)

What Quarto does and this does too (math as MathML, where Quarto uses MathJax): the front matter's title and description on top, a table of contents, code
cells shown unless `#| echo: false`, `#| output: asis` markdown outputs (show_doc) read as markdown, figures inline,
stream and plain-text outputs as text blocks. Not the theme, the sidebar, or the site's navigation. Needs `pandoc`."""
import argparse, json, re, subprocess, sys
from pathlib import Path

CSS = """body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;line-height:1.5;color:#222}
pre{background:#f6f7f9;padding:.6em;overflow-x:auto;border-radius:4px;font-size:.85em}
pre.out{background:#fff;border-left:3px solid #ccd}code{font-size:.9em}img{max-width:100%}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2em .5em}
#TOC{float:right;width:14em;font-size:.8em;margin-left:1em;border-left:1px solid #ddd}
p.subtitle{color:#555}"""

def directives(src):
    d, lines = {}, src.splitlines()
    while lines and re.match(r'\s*#\s*\|', lines[0]):
        m = re.match(r'\s*#\s*\|\s*([\w-]+)\s*:?\s*(.*)', lines.pop(0))
        if m: d[m.group(1)] = m.group(2).strip()
    return d, '\n'.join(lines)

def fence(text, cls=''):
    n = max([3] + [len(m) + 1 for m in re.findall(r'`{3,}', text)])
    return f"{'`' * n}{cls}\n{text.rstrip()}\n{'`' * n}"

def to_markdown(nb):
    parts, meta = [], {}
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'raw':
            m = re.match(r'\s*---\n(.*?)\n---', src, re.S)
            if m:
                import yaml
                meta = yaml.safe_load(m.group(1)) or {}
            continue
        if c['cell_type'] == 'markdown': parts.append(src); continue
        d, code = directives(src)
        if d.get('include') == 'false': continue
        if d.get('echo') != 'false' and code.strip(): parts.append(fence(code, 'python'))
        if d.get('output') == 'false': continue
        for o in c.get('outputs', []):
            t, data = o.get('output_type'), o.get('data', {})
            if t == 'stream': parts.append(fence(''.join(o['text']), '{.out}'))
            elif t == 'error': parts.append(fence('\n'.join(o.get('traceback', [])), '{.out}'))
            elif 'text/markdown' in data: parts.append(''.join(data['text/markdown']))
            elif 'image/png' in data: parts.append(f"![](data:image/png;base64,{''.join(data['image/png']).strip()})")
            elif 'text/html' in data: parts.append(fence(''.join(data['text/html']), '{=html}'))
            elif 'text/plain' in data: parts.append(fence(''.join(data['text/plain']), '{.out}'))
    return meta, '\n\n'.join(parts)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('notebooks', nargs='+')
    ap.add_argument('--out', default='_proc/_preview')  # _proc/ is git-ignored
    a = ap.parse_args()
    out = Path(a.out).resolve(); out.mkdir(parents=True, exist_ok=True)
    site_css = Path(__file__).resolve().parent.parent/'nbs'/'styles.css' # the site's own rules (wrapping, image widths)
    (out/'preview.css').write_text(CSS + '\n' + (site_css.read_text() if site_css.exists() else ''))
    ver = subprocess.run(['pandoc', '--version'], capture_output=True, text=True).stdout.split()[1]
    embed = '--embed-resources' if int(ver.split('.')[0]) >= 3 else '--self-contained'  # images, css in the file
    for p in map(Path, a.notebooks):
        meta, md = to_markdown(json.loads(p.read_text(encoding='utf-8')))
        name = meta.get('output-file') or p.with_suffix('.html').name
        args = ['pandoc', '-f', 'markdown-implicit_figures', '-t', 'html5', '-s', '--toc', '--toc-depth=2', '--mathml',
                embed, '--css', str(out/'preview.css'), '-o', str(out/name)]
        import yaml  # title and description as Quarto shows them: markdown, read from the front matter
        head = {'title': meta.get('title', p.stem), **({'subtitle': meta['description']} if meta.get('description') else {})}
        md = f"---\n{yaml.safe_dump(head, allow_unicode=True)}---\n\n{md}"
        root = Path(__file__).resolve().parent.parent  # this repository's raw GitHub files (the README's images) read here
        md = re.sub(r'https://raw\.githubusercontent\.com/[^/\s)]+/[^/\s)]+/[^/\s)]+/', root.as_uri() + '/', md)
        r = subprocess.run(args, input=md, text=True, capture_output=True, cwd=p.parent)
        if r.returncode: sys.exit(f'{p}: pandoc failed: {r.stderr}')
        print(out/name)

if __name__ == '__main__': main()
