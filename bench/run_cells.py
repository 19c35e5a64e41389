"""Run a notebook's code cells in order, as nbdev-test does, without IPython (for machines that lack nbdev).

Used on the lent GPU machine, whose image has torch but not nbdev/IPython, to run the `#| gpu` cells:

    python bench/run_cells.py nbs/02c_features.ipynb gpu        # flags: gpu, slow

Cells marked `#| eval: false` never run; `#| slow` / `#| gpu` cells run only when their flag is given.
"""
import json, os, re, sys, time
import matplotlib; matplotlib.use('Agg')

def run(nb, flags):
    os.chdir(os.path.dirname(os.path.abspath(nb)))
    ns, future = {'__name__': '__main__'}, __import__('__future__').annotations.compiler_flag
    for i, c in enumerate(json.load(open(os.path.basename(nb)))['cells']):
        if c['cell_type'] != 'code': continue
        src = ''.join(c['source'])
        dirs = [d.strip() for d in re.findall(r'^#\|\s*(.*)$', src, re.M)]
        if any(d.replace(' ', '') == 'eval:false' for d in dirs): continue
        fl = {d.split()[0] for d in dirs if d}
        if any(f in fl and f not in flags for f in ('slow', 'gpu')): continue
        t = time.time()
        exec(compile(src, f'{nb}[{i}]', 'exec', flags=future, dont_inherit=True), ns)  # exported modules use postponed annotations
        if fl & {'slow', 'gpu'}: print(f'{nb} cell {i} ({", ".join(sorted(fl & {"slow", "gpu"}))}) ok in {time.time() - t:.1f}s', flush=True)
    print(f'{nb}: all cells ran', flush=True)

if __name__ == '__main__': run(sys.argv[1], set(sys.argv[2:]))
