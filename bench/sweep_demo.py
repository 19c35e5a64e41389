"""Quality of the demo's decoder across settings and training seeds, epoch by epoch (a benchmark, not a test).

Each run trains the demo's decoder on the demo's data (ShapesWorld seed 0, shipped ShapesEncoder features) for a
plan of --epochs epochs, and after every epoch scores that epoch's model on a VALIDATION world of its own (seed 2,
--n-val scenes, beam 3): content accuracy, attention grounding, BLEU-4 and CIDEr against the sixth-caption ceiling.
The checkpoint is selected there (--select; default: the epoch with the highest content accuracy + grounding hit
on the validation world), and only when the run has finished is the test world (seed 1, --n-test scenes, the
scenes the README and lesson 06 report) scored, ONCE, at that checkpoint. Nothing is tuned on the test scenes.
Results are JSON lines (stdout and OUT/results.jsonl): one row per epoch with split='val', then one row with
split='test' and the selected epoch. Each run is a job in a fresh process (spawned, one job per process, one torch
thread). A run trains with `captionlab.training.train` itself, on the split, vocabulary and datasets
`captionlab.pipeline.train_run` would build (`datasets`).

A run is a name from RUNS: what it changes from the demo's settings (`DEMO_DECODER`, `DEMO_TRAIN`,
`DEMO_POSITIONS`); runs without 'cos' use a constant learning rate. Some settings exist only here, as experiments
that plug into `train` without touching the library: a decoder subclass (`SweepDecoder`, `SweepConfig`:
attention temperature, hard (straight-through Gumbel) attention, hiding the context from the LSTM, coverage (each
cell's attention so far enters its score; Tu et al. 2016)), losses (`loss_fn`: an attention-entropy penalty;
attention supervised by the scenes' boxes, `sup`: + weight x cross-entropy between the named object's box cover and
alpha at its size, colour and shape words, Liu et al. 2017, whose targets come through `collate_fn`), and the
encoder's per-cell predictions as features. Every job checks at its end that no attribute of a captionlab module or
class changed (`library_changes`). The features are the shipped ShapesEncoder's, extracted into
OUT/features (another encoder's features can be put there before a run). Runs are relative to the demo's settings
of today: the 2026-11-25 rows of lesson 06 were measured before the demo had `word_query` and the 1x1-last-layer
encoder, so reproducing them takes `word_query: False` and features from the 3x3 encoder
(`ShapesNet(context=3)`, `pretrain_shapes(context=3)`).

    python bench/sweep_demo.py --out /tmp/sweep --runs learned-cos,mean-cos:42/1 --seeds 42,1,2 --epochs 8 --jobs 6
    python bench/sweep_demo.py --out /tmp/sweep --runs demo:1/2/3 --epochs 12 --n-train 4000 --jobs 2   # the demo
    python bench/sweep_demo.py --out /tmp/smoke --runs demo:1,demo-cov:1 --epochs 2 \
        --n-train 200 --n-val 20 --n-test 20 --jobs 1                                                # a smoke run, ~1 min

Measured by the earlier version of this script, which scored every epoch on the test scenes themselves (it
picked no checkpoint by them, but settings were compared on them), on the 16-core CPU of a lent GPU machine and
this project's 2-core CPU (lesson 06 has the tables):
2026-11-25: at a constant lr 2e-3 content accuracy jumped between 44% and 89% from epoch to epoch; with the cosine
plan it climbs steadily; grounding stayed at 66-71% in every decoder variant. 2026-11-26: the attention query
reading the last word (`word_query`) took grounding to 77-80%; the 1x1-last-layer encoder raised content accuracy;
the demo as shipped (--n-train 4000 --runs demo:42/1/2/3 --epochs 12), at the best-validation epoch: content
accuracy 96.7 / 98.0 / 93.0 / 91.7 % and grounding 80.1 / 77.6 / 81.6 / 77.1 % (seed 42: `captionlab demo` itself).
"""
import argparse, copy, json, multiprocessing, os, shutil, time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1') # before huggingface_hub is imported (by captionlab.model)
import torch
import torch.nn as nn
import torch.nn.functional as F
from captionlab import decoder as D
from captionlab.data import PAD, Vocab, CaptionDataset, collate_captions, split_records
from captionlab.decoder import CaptionDecoder, DecoderConfig
from captionlab.training import train, caption_loss, TrainConfig
from captionlab.features import CellPositions
from captionlab.decoder import register_decoder
from captionlab.pipeline import word_groups

RUNS = { # name -> (decoder overrides, training overrides), applied on top of the demo's settings
    'demo': ({}, {'sched': 'cos'}),      # the demo as it is
    'demo-drop5': ({'dropout': 0.5}, {'sched': 'cos'}),
    'mean': ({'init': 'mean'}, {}),
    'learned': ({'init': 'learned'}, {}),
    'learned-plain': ({'init': 'learned', 'deep_output': False}, {}),
    'learned-drop1': ({'init': 'learned', 'dropout': 0.1}, {}),
    'learned-lr1e3': ({'init': 'learned'}, {'lr': 1e-3}),
    'learned-b64': ({'init': 'learned'}, {'batch_size': 64}),
    'learned-h384': ({'init': 'learned', 'hid_dim': 384}, {}),
    'mean-cos': ({'init': 'mean'}, {'sched': 'cos'}),
    'learned-cos': ({'init': 'learned'}, {'sched': 'cos'}),
    'learned-cos-ent02': ({'init': 'learned'}, {'sched': 'cos', 'ent': 0.02}),
    'learned-cos-ent1': ({'init': 'learned'}, {'sched': 'cos', 'ent': 0.1}),
    'mean-cos-ent1': ({'init': 'mean'}, {'sched': 'cos', 'ent': 0.1}),
    'learned-cos-t3': ({'init': 'learned', 'temp': 3.}, {'sched': 'cos'}),
    'learned-cos-t10': ({'init': 'learned', 'temp': 10.}, {'sched': 'cos'}),
    'mean-cos-t3': ({'init': 'mean', 'temp': 3.}, {'sched': 'cos'}),
    'learned-cos-nopos': ({'init': 'learned'}, {'sched': 'cos', 'pos': 0.}),
    'learned-cos-zeroctx': ({'init': 'learned', 'zeroctx': True}, {'sched': 'cos'}),
    'heads-cos': ({'init': 'learned'}, {'sched': 'cos', 'feat': 'heads'}),
    'heads-mean-cos': ({'init': 'mean'}, {'sched': 'cos', 'feat': 'heads'}),
    'learned-cos-b64': ({'init': 'learned'}, {'sched': 'cos', 'batch_size': 64, 'lr': 3e-3}),
    'ctxdrop-cos': ({'init': 'learned', 'ctxdrop': 0.5}, {'sched': 'cos'}),
    'ctxdrop-heads-cos': ({'init': 'learned', 'ctxdrop': 0.5}, {'sched': 'cos', 'feat': 'heads'}),
    'hard-cos': ({'init': 'learned', 'hard': True}, {'sched': 'cos'}),
    'hard-heads-cos': ({'init': 'learned', 'hard': True}, {'sched': 'cos', 'feat': 'heads'}),
    'plain-cos-ent1': ({'init': 'learned', 'deep_output': False}, {'sched': 'cos', 'ent': 0.1}),
    'demo-nowq': ({'word_query': False}, {'sched': 'cos'}),    # the paper's query (the demo before 2026-11-26)
    'demo-nowq-sup03': ({'word_query': False}, {'sched': 'cos', 'sup': 0.3}),
    'demo-zeroctx': ({'zeroctx': True}, {'sched': 'cos'}),
    'demo-cov': ({'cov_inside': True, 'coverage': False}, {'sched': 'cos'}),          # + coverage: the attention sees how much each cell got so far
    'demo-sup03': ({}, {'sched': 'cos', 'sup': 0.3}),
}
# The experiments. Each is a subclass or a loss handed to `captionlab.training.train` (`decoder_cls`, `loss_fn`,
# `collate_fn`): nothing in the library is patched, which every job checks after its run (`library_changes`).
@dataclass
class SweepConfig(DecoderConfig):
    "`DecoderConfig` and the settings that exist only here; all off by default: then it is the demo's decoder."
    temp: float = 1.       # attention scores times this fixed factor: sharper attention from the first step
    zeroctx: bool = False  # the LSTM never reads the context: it reaches the words only through the deep output
    ctxdrop: float = 0.    # training hides the context from the LSTM at random steps (the deep output still reads it)
    hard: bool = False     # training attends to one sampled cell (straight-through Gumbel-softmax); decoding stays soft
    cov_inside: bool = False # coverage inside the tanh (Tu et al. 2016; See et al. 2017): w_c per attention unit
                             # (the library's `coverage` adds u · coverage to the score, outside the tanh)

class SweepDecoder(CaptionDecoder):
    """`CaptionDecoder` with the sweep's experiments (`SweepConfig`); fused fast paths only (no `fast=False`).
Coverage: scores w.tanh(W_f f + W_h h + w_c cov), cov = each cell's attention so far; it rides in c: (.., H + P)."""
    def __init__(self, cfg: SweepConfig):
        super().__init__(cfg)
        if cfg.cov_inside: self.cov_att = nn.Parameter(torch.zeros(cfg.att_dim)) # w_c, zero: starts as the model without it
        if cfg.zeroctx: # the context's LSTM input weights are zero and stay zero
            E = cfg.emb_dim
            with torch.no_grad(): self.lstm.weight_ih[:, E:] = 0
            self.lstm.weight_ih.register_hook(lambda g: torch.cat([g[:, :E], torch.zeros_like(g[:, E:])], 1))

    def init_state(self, feats):
        h, c = super().init_state(feats)                                               # (B, H), (B, H)
        if not self.cfg.cov_inside: return h, c
        return h, torch.cat([c, c.new_zeros(*c.shape[:-1], feats.shape[1])], -1)      # (B, H + P): nothing seen yet

    def _cell(self, mem, gx, h, c, cov_lib=None):
        x = self.cfg
        if x.ctxdrop and self.training: # these steps' LSTM reads a zero context
            B, K = h.shape[:2]
            keep = (torch.rand(B, K, 1, device=h.device) >= x.ctxdrop).float() / (1 - x.ctxdrop)  # (B, K, 1)
            mem = D._Memory(mem.feats * keep[:, :1], mem.proj, mem.w_h, mem.b_h, mem.w_z, None, mem.acc)
        if not (x.cov_inside or x.hard or x.temp != 1.): return super()._cell(mem, gx, h, c, cov_lib)
        if cov_lib is not None: raise ValueError("the sweep's experiments do not combine with the library's coverage")
        A, H = x.att_dim, x.hid_dim                # the fused step of CaptionDecoder._cell, with the scores changed
        if x.cov_inside: c, cov = c.split([H, c.shape[-1] - H], -1)                     # (B, K, H), (B, K, P)
        acc_h, acc_z = mem.acc or (None, None)
        q, g, hh = (D._linear(h, mem.w_h, acc_h) + mem.b_h).split([A, 1, 4 * H], -1)  # (B, K, A), (B, K, 1), (B, K, 4H)
        if x.word_query: qy, gx = gx.split([A, 4 * H], -1); q = q + qy
        if x.cov_inside:
            e = self.attention.score(torch.tanh(mem.proj[:, None] + q[:, :, None] + cov[..., None] * self.cov_att))
            e = e.squeeze(-1)                                                          # (B, K, P)
        else: e = D._scores(self.attention, mem.proj, q)                               # (B, K, P)
        if x.temp != 1.: e = e * x.temp
        alpha = F.gumbel_softmax(e, tau=1., hard=True) if x.hard and torch.is_grad_enabled() else e.softmax(-1)
        z = alpha @ mem.fz if mem.fz is not None else D._linear(alpha @ mem.feats, mem.w_z, acc_z)  # (B, K, 4H)
        gates = gx + hh + torch.sigmoid(g) * z
        i, f, _, o = torch.sigmoid(gates).chunk(4, -1)
        c = f * c + i * torch.tanh(gates[..., 2 * H:3 * H])
        return o * torch.tanh(c), torch.cat([c, cov + alpha], -1) if x.cov_inside else c, alpha

register_decoder('bench.SweepDecoder', SweepDecoder, SweepConfig) # its checkpoints load with load_checkpoint here

def with_entropy(loss_fn, weight):
    "`loss_fn` plus `weight` × the mean attention entropy of the real steps (only the loss changes, not the CE)."
    def entropy_loss(logits, alphas, tokens, att_lambda=1.0, extra=None):
        loss, ce, n = loss_fn(logits, alphas, tokens, att_lambda, extra)
        m = (tokens[:, 1:] != PAD).float()                                     # (B, T)
        H = -(alphas * alphas.clamp_min(1e-9).log()).sum(-1)                   # (B, T)
        return loss + weight * (H * m).sum() / m.sum(), ce, n
    return entropy_loss

class AlignedDataset(CaptionDataset):
    "Captions with, for each word, the box cover of the object it names (zeros elsewhere): (P, C), (L,), (L-1, P)."
    def __getitem__(self, i):
        from captionlab.shapes import match_mentions, SIZES
        from captionlab.evaluation import box_cover
        x, toks = super().__getitem__(i)                                       # (P, C), (L,)
        r = self.records[self.items[i][0]]; words = [self.vocab.itos[t] for t in toks[1:-1].tolist()]
        beta = torch.zeros(len(toks) - 1, x.shape[0])                          # (L-1, P): alpha t predicts word t
        for k, ci, si in match_mentions(words, r.meta['objects']):
            if k is None: continue
            cov = box_cover(r.meta['objects'][k]['box'], r.meta['size'], int(round(x.shape[0] ** .5)))
            for t in [ci, si] + ([ci - 1] if ci > 0 and words[ci - 1] in SIZES else []): beta[t] = cov / cov.sum()
        return x, toks, beta

def collate_aligned(batch):
    "`collate_captions`, with extra = (lengths, beta (B, T-1, P))."
    x, y, lengths = collate_captions([b[:2] for b in batch])
    beta = torch.zeros(*y.shape[:1], y.shape[1] - 1, x.shape[1])              # (B, T-1, P)
    for j, b in enumerate(batch): beta[j, :len(b[2])] = b[2]
    return x, y, (lengths, beta)

def with_supervision(loss_fn, weight):
    "Attention supervised by the scenes' boxes (Liu et al. 2017): + weight × CE(box cover of the named object, alpha) at object words."
    def supervised_loss(logits, alphas, tokens, att_lambda=1.0, extra=None):
        loss, ce, n = loss_fn(logits, alphas, tokens, att_lambda, extra)
        beta = extra[1].to(alphas.device)                                      # (B, T-1, P) from `collate_aligned`
        m = beta.sum(-1) > 0                                                   # (B, T-1) object words
        sup = -(beta * alphas.float().clamp_min(1e-9).log()).sum(-1)[m].mean() if m.any() else 0.
        return loss + weight * sup, ce, n
    return supervised_loss

def library_state() -> dict:
    "The id of every attribute of every captionlab module and of every class they define."
    import importlib, pkgutil, captionlab
    out = {}
    for info in pkgutil.iter_modules(captionlab.__path__):
        mod = importlib.import_module(f'captionlab.{info.name}')
        for k, v in vars(mod).items():
            out[f'{mod.__name__}.{k}'] = v
            if isinstance(v, type) and v.__module__ == mod.__name__: # (copy.deepcopy caches __slotnames__ there)
                out.update({f'{mod.__name__}.{k}.{a}': w for a, w in vars(v).items() if a != '__slotnames__'})
    return {k: (id(v), getattr(v, '__module__', None)) for k, v in out.items()}

def library_changes(before: dict) -> list:
    "What differs from `before` (a `library_state`), and every library attribute whose value this script defined."
    now = library_state()
    return sorted({k for k in before.keys() | now.keys() if before.get(k) != now.get(k)} |
                  {k for k, (_, m) in now.items() if m == __name__})

def datasets(recs, feats, cfg, dec, pos, dataset_cls=CaptionDataset, config_cls=DecoderConfig):
    "What `captionlab.pipeline.train_run` gives `train` for a new run: split, vocabulary, meta, decoder config, datasets."
    from captionlab.pipeline import default_min_freq
    sp = split_records(recs, val_frac=0.1, seed=cfg.seed, n_test=None)
    min_freq = default_min_freq(recs)
    vocab = Vocab.build([c for r in sp['train'] for c in r.captions], min_freq=min_freq)
    store = getattr(feats, 'index', {})
    meta = dict(encoder=store.get('encoder'), encoder_weights=store.get('weights'), cell_positions=pos or 0.,
                min_freq=min_freq)
    if pos: feats = CellPositions(feats, pos)
    P, C = feats[sp['train'][0].image_id].shape
    if dec.get('context_words'): dec = dict(dec, context_words=word_groups(dec['context_words'], vocab)) # words -> ids
    dcfg = config_cls(vocab_size=len(vocab), enc_dim=C, **{k: v for k, v in dec.items() if v is not None})
    tr, va = (dataset_cls(sp[k], feats, vocab, cfg.max_len) for k in ('train', 'val'))
    return tr, va, vocab, dcfg, meta, {k: [r.image_id for r in v] for k, v in sp.items()}

WORLDS = {'train': 0, 'val': 2, 'test': 1} # ShapesWorld seed of each world: the demo trains on 0 and tests on 1

def prepare(out: Path, n_train: int, n_val: int, n_test: int):
    from captionlab.shapes import make_shapes_world, shapes_records
    from captionlab.pipeline import extract
    for name, n in (('train', n_train), ('val', n_val), ('test', n_test)):
        seed = WORLDS[name]
        d = out/'data'/name
        if not ((d/'shapes.json').exists() and len(shapes_records(d)) == n): make_shapes_world(d, n, seed=seed)
        extract(shapes_records(d), out/'features'/name, 'shapes-cnn', progress=False)

class HeadFeatures:
    "The ShapesEncoder's per-cell predictions (colour, shape, size probabilities) as the cell features: (P, 256) -> (P, 14)."
    def __init__(self, feats):
        import torch
        from captionlab.encoder import ShapesEncoder
        self.feats, hs = feats, ShapesEncoder.pretrained().net.heads
        self.w = [(h.weight.detach()[:, :, 0, 0].numpy(), h.bias.detach().numpy()) for h in hs.values()]
    def __contains__(self, k): return k in self.feats
    def __len__(self): return len(self.feats)
    def __getitem__(self, k):
        import numpy as np
        f = np.asarray(self.feats[k], np.float32)                              # (P, C)
        out = []
        for w, b in self.w:
            z = f @ w.T + b; z = np.exp(z - z.max(-1, keepdims=True))          # (P, K)
            out.append(z / z.sum(-1, keepdims=True))
        return np.concatenate(out, -1)                                         # (P, 14)

SELECT = {'quality': lambda q, h: q['content_accuracy'] + q['grounding_hit'], # higher is better
          'content_accuracy': lambda q, h: q['content_accuracy'], 'grounding_hit': lambda q, h: q['grounding_hit'],
          'val_loss': lambda q, h: -h['val_loss']}  # the demo's own rule: held-out scenes of the training world

def one_run(args):
    out, name, seed, epochs, device, select = args
    torch.set_num_threads(1)
    before = library_state()
    from captionlab.shapes import shapes_records
    from captionlab.features import FeatureStore
    from captionlab.pipeline import DEMO_DECODER, DEMO_TRAIN, DEMO_POSITIONS
    from captionlab.evaluation import shapes_quality
    dec_o, tr_o = RUNS[name]
    recs, val, test = (shapes_records(out/'data'/w) for w in ('train', 'val', 'test'))
    dec = dict(DEMO_DECODER, **dec_o)
    experiment = any(k in dec for k in ('temp', 'zeroctx', 'ctxdrop', 'hard', 'cov_inside')) # else the demo's decoder
    decoder_cls, config_cls = (SweepDecoder, SweepConfig) if experiment else (CaptionDecoder, DecoderConfig)
    run_dir, rows = out/'runs'/f'{name}-s{seed}', []
    tr = {k: v for k, v in dict(DEMO_TRAIN, **tr_o).items() if k != 'max_time'}
    pos, heads = tr.pop('pos', DEMO_POSITIONS), tr.pop('feat', None) == 'heads'
    def features(world, positions=True): # `datasets` appends the positions to the training features itself
        f = FeatureStore.open(out/'features'/world)
        if heads: f = HeadFeatures(f)
        return CellPositions(f, pos) if pos and positions else f
    ftr, fva, fte = features('train', positions=False), features('val'), features('test')
    tr['lr_schedule'] = 'cosine' if tr.pop('sched', None) == 'cos' else 'constant' # cosine: over the whole plan of `epochs`
    ent, sup = tr.pop('ent', 0.), tr.pop('sup', 0.)
    loss_fn = caption_loss
    if sup: loss_fn = with_supervision(loss_fn, sup)
    if ent: loss_fn = with_entropy(loss_fn, ent)
    def emit(row):
        rows.append(row)
        with open(out/'results.jsonl', 'a') as f: f.write(json.dumps(row) + '\n')
        print(json.dumps(row), flush=True)
    def scores(q): return dict(**{k: round(v, 4) for k, v in q['quality'].items()},
                               mass=round(q['grounding']['mass'], 4), bleu4=round(q['metrics']['BLEU-4'], 4),
                               cider=round(q['metrics']['CIDEr'], 4))
    t0, best = time.time(), None # best: (selection score, epoch, model, vocab), on the validation world
    cfg = TrainConfig(epochs=epochs, seed=seed, max_time=1e-6, **tr) # the time limit stops every call after one epoch
    tr_ds, va_ds, vocab, dcfg, meta, splits = datasets(recs, ftr, cfg, dec, pos, AlignedDataset if sup else CaptionDataset,
                                                       config_cls)
    shutil.rmtree(run_dir, ignore_errors=True) # each job trains afresh; its later epochs resume its own run
    for e in range(1, epochs + 1):
        res = train(cfg, tr_ds, va_ds, vocab, dcfg, run_dir, resume=e > 1, progress=False, meta=meta, splits=splits,
                    decoder_cls=decoder_cls, loss_fn=loss_fn, collate_fn=collate_aligned if sup else collate_captions)
        if len(res.history) < e: break # early stopping fired before this epoch
        m = res.last_model.to(device).eval()
        q, h = shapes_quality(m, vocab, val, fva, beam=3), res.history[-1]
        score = SELECT[select](q['quality'], h)
        if best is None or score > best[0]: best = (score, e, copy.deepcopy(m), vocab)
        emit(dict(run=name, seed=seed, split='val', epoch=e, train_loss=round(h['train_loss'], 4),
                  val_loss=round(h['val_loss'], 4), epoch_s=round(h['time'], 1), elapsed_s=round(time.time() - t0, 1),
                  best_val_loss_epoch=res.best_epoch + 1, **scores(q)))
    if best is not None:
        _, e, m, vocab = best # the run is over: the test world, once, at the checkpoint the validation world chose
        q = shapes_quality(m, vocab, test, fte, beam=3)
        emit(dict(run=name, seed=seed, split='test', epoch=e, selected_by=f'{select} on the validation world (seed '
                  f"{WORLDS['val']}, {len(val)} scenes)", n_test=len(test), **scores(q)))
    changed = library_changes(before)
    assert not changed, f"run {name} changed the library: {changed[:10]}"
    return rows

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', default='/tmp/captionlab-sweep'); p.add_argument('--runs', default='demo,learned')
    p.add_argument('--seeds', default='42,1,2'); p.add_argument('--epochs', type=int, default=16)
    p.add_argument('--jobs', type=int, default=2); p.add_argument('--device', default='cpu')
    p.add_argument('--n-train', type=int, default=3000); p.add_argument('--n-test', type=int, default=300)
    p.add_argument('--n-val', type=int, default=300, help='validation world (seed 2): every epoch is scored here')
    p.add_argument('--select', default='quality', choices=list(SELECT),
                   help='checkpoint selection on the validation world (quality: content accuracy + grounding hit)')
    a = p.parse_args()
    if a.device == 'cpu': os.environ['CUDA_VISIBLE_DEVICES'] = ''
    out = Path(a.out); prepare(out, a.n_train, a.n_val, a.n_test)
    jobs = [] # 'name' runs every --seeds; 'name:1/2' runs the seeds given
    for spec in a.runs.split(','):
        name, _, seeds = spec.partition(':')
        seeds = seeds.split('/') if seeds else a.seeds.split(',')
        jobs += [(out, name, int(s), a.epochs, a.device, a.select) for s in seeds]
    unknown = sorted({j[1] for j in jobs} - set(RUNS))
    if unknown: p.error(f"unknown runs {unknown}; known: {', '.join(RUNS)}")
    print(f"every epoch is scored on the validation world (seed {WORLDS['val']}, {a.n_val} scenes) and the "
          f"checkpoint selected there by {a.select}; the test world (seed {WORLDS['test']}, {a.n_test} scenes) is "
          "scored once per finished run, at that checkpoint (the rows with split='test')", flush=True)
    before = library_state()
    # one job per fresh spawned process (one torch thread each); every job checks it changed nothing in the library
    with ProcessPoolExecutor(a.jobs, mp_context=multiprocessing.get_context('spawn'), max_tasks_per_child=1) as ex:
        list(ex.map(one_run, jobs))
    assert not library_changes(before), library_changes(before) # importing this script changed nothing either
