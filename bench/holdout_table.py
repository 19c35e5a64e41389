"""Unseen combinations for pairs drawn at random: `captionlab demo --holdout random:K --holdout-seed H --seed S`
over training seeds x hold-out seeds (a benchmark, not a test).

Each run is `run_demo` itself (beam 3, no METEOR, one torch thread, progress off) in a folder of its own, --jobs
runs side by side. `--test-world` scores another ShapesWorld seed than the demo's
(3): tune on one of your own, report on 3. `--dec` / `--train` change the demo's `DEMO_DECODER` / `DEMO_TRAIN`
(JSON). One JSON line per run (stdout and OUT/results.jsonl), then the table: per run the worst pair, the
compositional content accuracy and the other scenes'; the worst and the mean over runs.

    python bench/holdout_table.py --out /tmp/ht --seeds 42,1,2,3,4 --holdout-seeds 1,2,3,4,5 --jobs 2
    python bench/holdout_table.py --out /tmp/tune --seeds 42 --holdout-seeds 100,101 --test-world 5 \\
        --dec '{"context_words": [], "coverage": false}'           # the demo's decoder without the two options
"""
import argparse, json, os, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1')

def one_run(job):
    "One demo run: training seed `s`, the pairs drawn by hold-out seed `hseed`."
    out, hseed, s, k, world, dec, train, epochs = job
    import torch; torch.set_num_threads(1)
    from captionlab import pipeline
    from captionlab.shapes import draw_holdout
    from captionlab.training import TrainConfig
    pipeline.DEMO_TEST_WORLD = world
    held = draw_holdout(k, hseed)
    t0 = time.time(); d = Path(out)/f'h{hseed}_s{s}'
    cfg = TrainConfig(epochs=epochs, **dict(pipeline.DEMO_TRAIN, **train), seed=s)
    pipeline.run_demo(d, holdout=held, seed=s, cfg=cfg, dec=dict(pipeline.DEMO_DECODER, **dec), meteor=False,
                      progress=False)
    rep = json.loads((d/'metrics.json').read_text()); c, q = rep['compositional'], rep['shapes_quality']['quality']
    row = dict(seed=s, holdout_seed=hseed, world=world, holdout=[' '.join(h) for h in held], pairs=c['pairs'],
               held=c['content_accuracy'], n_held=c['n_scenes'], others=c['others'], content=q['content_accuracy'],
               relation=q['relation_accuracy'], grounding=q['grounding_hit'], time_s=round(time.time() - t0, 1))
    with open(Path(out)/'results.jsonl', 'a') as f: f.write(json.dumps(row) + '\n')
    print(json.dumps(row), flush=True)
    return row

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', default='/tmp/holdout_table')
    p.add_argument('--seeds', default='42,1,2,3,4', help='training seeds')
    p.add_argument('--holdout-seeds', default='1,2,3,4,5', help='seeds of `draw_holdout`')
    p.add_argument('--k', type=int, default=3, help='pairs held out')
    p.add_argument('--test-world', type=int, default=3, help="the test world (3: the demo's)")
    p.add_argument('--dec', default='{}', help='JSON: changes to DEMO_DECODER')
    p.add_argument('--train', default='{}', help='JSON: changes to DEMO_TRAIN')
    p.add_argument('--epochs', type=int, default=None, help='plan length (default DEMO_EPOCHS)')
    p.add_argument('--jobs', type=int, default=2, help='runs side by side')
    a = p.parse_args()
    from captionlab.pipeline import DEMO_EPOCHS
    Path(a.out).mkdir(parents=True, exist_ok=True)
    seeds, hseeds = [int(s) for s in a.seeds.split(',')], [int(s) for s in a.holdout_seeds.split(',')]
    jobs = [(a.out, h, s, a.k, a.test_world, json.loads(a.dec), json.loads(a.train), a.epochs or DEMO_EPOCHS)
            for h in hseeds for s in seeds]
    with ProcessPoolExecutor(a.jobs) as ex: rows = list(ex.map(one_run, jobs))
    pct = lambda v: f"{v:.1%}"
    print(f"\n{'seed':>5} {'hold-out':>8}  {'worst pair':<24} {'held-out':>9} {'others':>8} {'relation':>9} {'grounding':>9}")
    for r in rows:
        w = min(r['pairs'], key=r['pairs'].get)
        print(f"{r['seed']:>5} {r['holdout_seed']:>8}  {w + ' ' + pct(r['pairs'][w]):<24} {pct(r['held']):>9} "
              f"{pct(r['others']):>8} {pct(r['relation']):>9} {pct(r['grounding']):>9}")
    allp = [v for r in rows for v in r['pairs'].values()]
    for name, vals in (('pair named', allp), ('held-out scenes', [r['held'] for r in rows]),
                       ('other scenes', [r['others'] for r in rows])):
        print(f"{name}: worst {min(vals):.1%}, mean {sum(vals) / len(vals):.1%} over {len(vals)}")

if __name__ == '__main__': main()
