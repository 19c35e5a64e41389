"""Score trained demo models on a ShapesWorld world of their own (a check, not a test).

Draws world --world (a seed that chose nothing) until --n-held scenes show a held-out pair, encodes it with the
shipped ShapesEncoder, and scores each model with `evaluate_run` (beam 3, no METEOR): every score on the first 300
scenes, the compositional test on all --n-held scenes with a held-out pair (the 300's and those after them, with
`more=`). One line per model; each report folder under OUT.

    captionlab demo --holdout purple:circle,green:square --seed 42 --threads 1 --no-meteor --out /tmp/h42
    python bench/fresh_world.py --world 7 --n-held 1000 --out /tmp/w7 /tmp/h42/model /tmp/h1/model ...

Measured 2026-12-02 (experiments page, "a confirmation on a fresh world"): the five --holdout models of seeds 42, 1,
2, 3, 4 gave 84.9%, 84.5%, 84.5%, 86.5%, 87.7% on world 7's first 1,000 scenes with a purple circle or a green square.
"""
import argparse
from pathlib import Path
from captionlab.shapes import make_shapes_world, shapes_records, scenes_for, shows_any
from captionlab.pipeline import extract, evaluate_run
from captionlab.cli import _pairs # the parser of `captionlab demo --holdout`

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('models', nargs='+', help='model or checkpoint folders trained with the hold-out')
    p.add_argument('--world', type=int, default=7, help='the world to draw (a seed no model saw or was chosen on)')
    p.add_argument('--n-held', type=int, default=1000, help='scenes that show a held-out pair')
    p.add_argument('--holdout', type=_pairs, default='purple:circle,green:square', help='COLOUR:SHAPE,... as the models had')
    p.add_argument('--out', default='/tmp/fresh_world', help='world, features and one report folder per model')
    a = p.parse_args()
    held = sorted(a.holdout)
    out = Path(a.out); n = scenes_for(a.n_held, a.world, held, showing=True)
    if not (out/'data'/'shapes.json').exists(): make_shapes_world(out/'data', n, seed=a.world)
    recs = shapes_records(out/'data')
    feats = extract(recs, out/'features', 'shapes-cnn', progress=False)
    test, more = recs[:300], [r for r in recs[300:] if shows_any(r.meta['objects'], set(held))]
    for i, m in enumerate(a.models):
        rep = evaluate_run(m, test, feats, out/f'eval_{i}', beams=(3,), holdout=held, meteor=False, more=more)
        c, q = rep['compositional'], rep['shapes_quality']['quality']
        print(f"{m}: world {a.world}: held-out pairs {c['content_accuracy']:.1%} of {c['n_scenes']} scenes "
              f"({c['in_test_set']['content_accuracy']:.1%} of the {c['in_test_set']['n_scenes']} among the first 300); "
              f"the other {c['n_others']} of the 300: {c['others']:.1%}; all 300: content {q['content_accuracy']:.1%}, "
              f"grounding {q['grounding_hit']:.1%}, "
              f"relation {q['relation_accuracy']:.1%}", flush=True)

if __name__ == '__main__': main()
