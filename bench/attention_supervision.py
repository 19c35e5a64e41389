"""Attention told where to look: `bench/holdout_table.py` with an extra training loss on the attention weights, from
ShapesWorld's boxes (a benchmark, not a test; tried for the unseen-combinations issue and not kept, see the
experiments page).

At every word about an object (its size, colour and shape words; `--article`: also the "a"/"an" before them;
`--next`: every word but the relation words and <eos>, about the next object named), the loss adds
`--weight` x -log(attention on that object's cells). `--cells cover`: a cell counts by the share of it the object
covers; `touched`: every cell it touches counts fully. `--tau` instead decodes the trained demo with the attention
scores divided by tau (sharper attention for tau < 1; no extra loss). All other arguments go to holdout_table.py.

    python bench/attention_supervision.py --weight 0.3 --article -- --out /tmp/as --seeds 42 --holdout-seeds 100 \\
        --test-world 5 --jobs 1
"""
import argparse, os, sys
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1')
sys.path.insert(0, str(Path(__file__).parent))
import numpy as np, torch
import holdout_table
from captionlab import training, pipeline
from captionlab.data import collate_captions
from captionlab.shapes import cell_cover, match_mentions, SIZES, COLOURS, SHAPES

RELATION_WORDS = ('right', 'left', 'of', 'above', 'below', 'it')

def word_objects(tokens, objs, article=False, nxt=False):
    "Per token, the object it is about, or None."
    out = [None] * len(tokens)
    for k, ci, si in match_mentions(tokens, objs):
        if k is None: continue
        out[ci] = out[si] = k
        if ci > 0 and tokens[ci - 1] in SIZES: out[ci - 1] = k
    if len(objs) == 1: out = [0 if w in SIZES or w in COLOURS or w in SHAPES else k for w, k in zip(tokens, out)]
    if article: out = [out[i + 1] if w in ('a', 'an') and i + 1 < len(out) and k is None else k
                       for i, (w, k) in enumerate(zip(tokens, out))]
    if nxt:
        later = None
        for i in range(len(out) - 1, -1, -1):
            if out[i] is not None: later = out[i]
            elif tokens[i] not in ('<eos>', *RELATION_WORDS): out[i] = later
    return out

class Targets(torch.utils.data.Dataset):
    "A `CaptionDataset` whose samples add (L, P): per token, the cells of its object."
    def __init__(self, ds, a):
        self.ds, covers, P = ds, {}, ds[0][0].shape[0]; g = int(round(P ** .5))
        def cells(r, words):
            if r.image_id not in covers: covers[r.image_id] = cell_cover(r, g).reshape(len(r.meta['objects']), -1)
            c = covers[r.image_id] if a.cells == 'cover' else (covers[r.image_id] > 0).astype(np.float32)
            out = np.zeros((len(words), P), np.float32)
            for i, k in enumerate(word_objects(words, r.meta['objects'], a.article, a.next)):
                if k is not None: out[i] = c[k]
            return torch.as_tensor(out)
        self.t = [cells(ds.records[ri], [ds.vocab.itos[i] for i in t.tolist()]) for ri, t in ds.items]
    def __getattr__(self, k): return getattr(self.__dict__['ds'], k)
    def __len__(self): return len(self.ds)
    def __getitem__(self, i): return (*self.ds[i], self.t[i])

def collate(batch):
    x, y, n = collate_captions([b[:2] for b in batch])
    return x, y, {'lengths': n, 'att': torch.nn.utils.rnn.pad_sequence([b[2] for b in batch], batch_first=True)}

def patch(a):
    "Every `train` of this process trains with the attention loss."
    plain = training.train
    def loss(logits, alphas, tokens, att_lambda, extra, **kw): # caption_loss + weight x -log(attention on the object)
        l, ce, n = training.caption_loss(logits, alphas, tokens, att_lambda, None, **kw)
        t = extra['att'][:, 1:].to(alphas.device)                            # (B, T-1, P)
        on = t.sum(-1) > 0                                                   # (B, T-1)
        mass = (alphas.float() * t).sum(-1)[on]                              # (n,)
        return l + a.weight * -mass.clamp_min(1e-6).log().mean(), ce, n
    def train(cfg, tr, va, *args, **kw):
        return plain(cfg, Targets(tr, a), Targets(va, a), *args, loss_fn=loss, collate_fn=collate, **kw)
    training.train = train

def sharpen(tau):
    "Every demo evaluates with the attention scores divided by tau."
    plain = pipeline.open_model
    def open_model(*args, **kw):
        m = plain(*args, **kw); m.decoder.attention.score.weight.data /= tau
        return m
    pipeline.open_model = open_model

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--weight', type=float, default=0.3)
    p.add_argument('--cells', choices=('cover', 'touched'), default='touched')
    p.add_argument('--article', action='store_true')
    p.add_argument('--next', action='store_true')
    p.add_argument('--tau', type=float, default=0., help='no loss: decode with the attention scores / tau')
    a, rest = p.parse_known_args()
    if a.tau: sharpen(a.tau)
    else: patch(a)
    sys.argv = [sys.argv[0], *[x for x in rest if x != '--']]
    holdout_table.main()
