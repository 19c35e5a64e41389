"""Draw the front page's picture, `nbs/images/attention_strip.png`: the packaged `shapes-demo` model captions a
ShapesWorld scene it never saw (seed 11), and each word is shown with where the model looked to write it.

    python tools/make_front_picture.py

It takes the first scene of two objects whose caption names both rightly and has at most 11 words."""
import tempfile
from pathlib import Path

import matplotlib
matplotlib.use('Agg')
from captionlab.evaluation import content_correct, show_attention
from captionlab.model import CaptionModel
from captionlab.shapes import make_shapes_world, shapes_records

OUT = Path(__file__).resolve().parent.parent/'nbs'/'images'/'attention_strip.png'

def main():
    model = CaptionModel.from_pretrained('shapes-demo')
    with tempfile.TemporaryDirectory() as d:
        make_shapes_world(d, 40, seed=11)
        recs = shapes_records(d)
        for r, c in zip(recs, model.caption([r.path for r in recs])):
            objs = r.meta['objects']
            if len(objs) == 2 and len(c.words) <= 11 and content_correct(c.text, objs): break
        else: raise SystemExit('no scene fits')
        fig = show_attention(r.path, c.words, c.alphas, cols=(len(c.words) + 2) // 2) # two rows
        fig.savefig(OUT, dpi=60)
    print(f'{OUT}: "{c.text}" ({r.image_id})')

if __name__ == '__main__': main()
