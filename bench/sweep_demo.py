"""Quality of the demo's decoder across settings and training seeds, epoch by epoch (a benchmark, not a test).

Each run trains the demo's decoder on the demo's data (ShapesWorld seed 0, shipped ShapesEncoder features) for a
plan of --epochs epochs, and after every epoch scores that epoch's model on a VALIDATION world of its own (seed 2,
--n-val scenes, beam 3): content accuracy, attention grounding, BLEU-4 and CIDEr against the sixth-caption ceiling.
The checkpoint is selected there (--select; default: the epoch with the highest content accuracy + grounding hit
on the validation world), and only when the run has finished is the test world (seed 1, --n-test scenes, the
scenes the README and lesson 06 report) scored, ONCE, at that checkpoint. Nothing is tuned on the test scenes.
Results are JSON lines (stdout and OUT/results.jsonl): one row per epoch with split='val', then one row with
split='test' and the selected epoch. Each run is a job in a fresh process (spawned, one job per process, one torch
thread), so the experiments below, which patch the library at run time, never leak into the next job.

A run is a name from RUNS: what it changes from the demo's settings (`DEMO_DECODER`, `DEMO_TRAIN`,
`DEMO_POSITIONS`); runs without 'cos' use a constant learning rate. Some settings exist only here, as experiments
patched in at run time: attention temperature, an attention-entropy penalty, hard (straight-through Gumbel)
attention, hiding the context from the LSTM, the encoder's per-cell predictions as features, and attention
supervised by the scenes' boxes (`sup`: + weight x cross-entropy between the named object's box cover and alpha at
its size, colour and shape words; Liu et al. 2017), and coverage (each cell's attention so far enters its score; Tu
et al. 2016). The features are the shipped ShapesEncoder's, extracted into
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
from pathlib import Path

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
    'demo-cov': ({'coverage': True}, {'sched': 'cos'}),          # + coverage: the attention sees how much each cell got so far
    'demo-sup03': ({}, {'sched': 'cos', 'sup': 0.3}),
}
def _coverage(D):
    "Coverage (Tu et al. 2016; See et al. 2017): scores w.tanh(W_f f + W_h h + w_c cov), cov = each cell's attention so far; it rides in c: (.., H + P). Fast paths only."
    import torch
    _init, _init_state = D.CaptionDecoder.__init__, D.CaptionDecoder.init_state
    def __init__(self, cfg):
        _init(self, cfg); self.cov_att = torch.nn.Parameter(torch.zeros(cfg.att_dim))  # w_c, zero: starts as the model without it
    def init_state(self, feats):
        h, c = _init_state(self, feats)
        return h, torch.cat([c, c.new_zeros(*c.shape[:-1], feats.shape[1])], -1)      # (B, H + P): nothing seen yet
    def _cell(self, mem, gx, h, c):
        A, H = self.cfg.att_dim, self.cfg.hid_dim
        c, cov = c.split([H, c.shape[-1] - H], -1)                                     # (B, K, H), (B, K, P)
        acc_h, acc_z = mem.acc or (None, None)
        q, g, hh = (D._linear(h, mem.w_h, acc_h) + mem.b_h).split([A, 1, 4 * H], -1)
        if self.cfg.word_query: qy, gx = gx.split([A, 4 * H], -1); q = q + qy
        e = self.attention.score(torch.tanh(mem.proj[:, None] + q[:, :, None] + cov[..., None] * self.cov_att)).squeeze(-1)  # (B, K, P)
        alpha = e.softmax(-1)
        z = alpha @ mem.fz if mem.fz is not None else D._linear(alpha @ mem.feats, mem.w_z, acc_z)
        gates = gx + hh + torch.sigmoid(g) * z
        i, f, _, o = torch.sigmoid(gates).chunk(4, -1)
        c = f * c + i * torch.tanh(gates[..., 2 * H:3 * H])
        return o * torch.tanh(c), torch.cat([c, cov + alpha], -1), alpha
    D.CaptionDecoder.__init__, D.CaptionDecoder.init_state, D.CaptionDecoder._cell = __init__, init_state, _cell

def _supervise_attention(T, C, weight):
    "Attention supervised by the scenes' boxes (Liu et al. 2017): + weight × CE(box cover of the named object, alpha) at object words."
    import torch
    from captionlab.shapes import match_mentions, SIZES
    from captionlab.evaluation import box_cover
    class AlignedDataset(C.CaptionDataset):
        def __getitem__(self, i):
            x, toks = super().__getitem__(i)                                   # (P, C), (L,)
            r = self.records[self.items[i][0]]; words = [self.vocab.itos[t] for t in toks[1:-1].tolist()]
            beta = torch.zeros(len(toks) - 1, x.shape[0])                      # (L-1, P): alpha t predicts word t
            for k, ci, si in match_mentions(words, r.meta['objects']):
                if k is None: continue
                cov = box_cover(r.meta['objects'][k]['box'], r.meta['size'], int(round(x.shape[0] ** .5)))
                for t in [ci, si] + ([ci - 1] if ci > 0 and words[ci - 1] in SIZES else []): beta[t] = cov / cov.sum()
            return x, toks, beta
    collate0 = T.collate_captions
    def collate(batch):
        x, y, lengths = collate0([b[:2] for b in batch])
        beta = torch.zeros(*y.shape[:1], y.shape[1] - 1, x.shape[1])          # (B, T-1, P)
        for j, b in enumerate(batch): beta[j, :len(b[2])] = b[2]
        return x, y, (lengths, beta)
    def train_epoch(model, dl, opt, cfg, device, scaler=None, progress=None, epoch=0):
        model.train(); tot, n = 0., 0
        for i, (feats, tokens, (_, beta)) in enumerate(dl):
            for g in opt.param_groups: g['lr'] = T.lr_at(cfg, epoch * len(dl) + i, cfg.epochs * len(dl))
            feats, tokens, beta = feats.to(device), tokens.to(device), beta.to(device)
            logits, alphas = model(feats, tokens)                              # (B, T-1, V), (B, T-1, P)
            loss, ce, _ = T.caption_loss(logits, alphas, tokens, cfg.att_lambda)
            m = beta.sum(-1) > 0                                               # (B, T-1) object words
            sup = -(beta * alphas.float().clamp_min(1e-9).log()).sum(-1)[m].mean() if m.any() else 0.
            loss = loss + weight * sup
            opt.zero_grad(set_to_none=True); loss.backward()
            if cfg.grad_clip: torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step(); tot += loss.item(); n += 1
        return tot / max(n, 1)
    C.CaptionDataset, T.collate_captions, T.train_epoch = AlignedDataset, collate, train_epoch

def _with_entropy(caption_loss, weight):
    "training.caption_loss plus `weight` × the mean attention entropy of the real steps (only the loss changes, not the CE)."
    def loss_fn(logits, alphas, tokens, att_lambda=1.0):
        loss, ce, n = caption_loss(logits, alphas, tokens, att_lambda)
        m = (tokens[:, 1:] != 0).float()                                       # (B, T)
        H = -(alphas * alphas.clamp_min(1e-9).log()).sum(-1)                   # (B, T)
        return loss + weight * (H * m).sum() / m.sum(), ce, n
    return loss_fn

WORLDS = {'train': 0, 'val': 2, 'test': 1} # ShapesWorld seed of each world: the demo trains on 0 and tests on 1

def prepare(out: Path, n_train: int, n_val: int, n_test: int):
    from captionlab.shapes import make_shapes_world, shapes_records
    from captionlab.cli import extract
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
_JOBS_HERE = [] # jobs this process has run: one at most (a patched library must not meet the next job)

def one_run(args):
    out, name, seed, epochs, device, select = args
    assert not _JOBS_HERE, f"job {args[1:3]} would run in the process of {_JOBS_HERE}: each job needs a fresh process"
    _JOBS_HERE.append((name, seed))
    import torch
    torch.set_num_threads(1)
    from captionlab.shapes import shapes_records
    from captionlab.encoder import FeatureStore
    from captionlab.training import TrainConfig, CellPositions
    from captionlab.cli import train_run, DEMO_DECODER, DEMO_TRAIN, DEMO_POSITIONS
    from captionlab.evaluation import shapes_quality
    import captionlab.training as T
    dec_o, tr_o = RUNS[name]
    recs, val, test = (shapes_records(out/'data'/w) for w in ('train', 'val', 'test'))
    dec = dict(DEMO_DECODER, **dec_o)
    temp, zeroctx = dec.pop('temp', 1.), dec.pop('zeroctx', False)
    hard, ctxdrop = dec.pop('hard', False), dec.pop('ctxdrop', 0.)
    if dec.pop('coverage', False): from captionlab import decoder as D; _coverage(D) # an experiment only
    if ctxdrop: # training hides the context from the LSTM at random steps; the deep output still reads it
        from captionlab import decoder as D
        _cell0 = D.CaptionDecoder._cell
        def _cell_drop(self, mem, gx, h, c):
            if not self.training: return _cell0(self, mem, gx, h, c)
            B, K = h.shape[:2]
            keep = (torch.rand(B, K, 1) >= ctxdrop).float() / (1 - ctxdrop)
            m = D._Memory(mem.feats * keep[:, :1], mem.proj, mem.w_h, mem.b_h, mem.w_z, None, mem.acc)
            return _cell0(self, m, gx, h, c)
        D.CaptionDecoder._cell = _cell_drop
    if hard: # training attends to one sampled cell (straight-through Gumbel-softmax); decoding stays soft
        import torch.nn.functional as F
        from captionlab import decoder as D
        def _cell(self, mem, gx, h, c):
            A, H = self.cfg.att_dim, self.cfg.hid_dim
            acc_h, acc_z = mem.acc or (None, None)
            q, g, hh = (D._linear(h, mem.w_h, acc_h) + mem.b_h).split([A, 1, 4 * H], -1)
            if self.cfg.word_query: qy, gx = gx.split([A, 4 * H], -1); q = q + qy
            e = D._scores(self.attention, mem.proj, q)
            alpha = F.gumbel_softmax(e, tau=1., hard=True) if torch.is_grad_enabled() else e.softmax(-1)
            z = alpha @ mem.fz if mem.fz is not None else D._linear(alpha @ mem.feats, mem.w_z, acc_z)
            gates = gx + hh + torch.sigmoid(g) * z
            i, f, _, o = torch.sigmoid(gates).chunk(4, -1)
            c = f * c + i * torch.tanh(gates[..., 2 * H:3 * H])
            return o * torch.tanh(c), c, alpha
        D.CaptionDecoder._cell = _cell
    if temp != 1.: # attention scores times a fixed factor: sharper attention from the first step
        from captionlab.attention import SoftAttention
        _scores = SoftAttention.scores
        SoftAttention.scores = lambda self, proj, q, mask=None: _scores(self, proj, q, mask) * temp
    if zeroctx: # the LSTM never reads the context: it reaches the words only through the deep output
        from captionlab.decoder import CaptionDecoder
        _init = CaptionDecoder.__init__
        def _init0(self, cfg):
            _init(self, cfg); E = cfg.emb_dim
            with torch.no_grad(): self.lstm.weight_ih[:, E:] = 0
            self.lstm.weight_ih.register_hook(lambda g: torch.cat([g[:, :E], torch.zeros_like(g[:, E:])], 1))
        CaptionDecoder.__init__ = _init0
    run_dir, rows = out/'runs'/f'{name}-s{seed}', []
    tr = {k: v for k, v in dict(DEMO_TRAIN, **tr_o).items() if k != 'max_time'}
    pos, heads = tr.pop('pos', DEMO_POSITIONS), tr.pop('feat', None) == 'heads'
    def features(world, positions=True): # train_run appends the positions to the training features itself
        f = FeatureStore.open(out/'features'/world)
        if heads: f = HeadFeatures(f)
        return CellPositions(f, pos) if pos and positions else f
    ftr, fva, fte = features('train', positions=False), features('val'), features('test')
    tr['lr_schedule'] = 'cosine' if tr.pop('sched', None) == 'cos' else 'constant' # cosine: over the whole plan of `epochs`
    ent, sup = tr.pop('ent', 0.), tr.pop('sup', 0.)
    if sup: import captionlab.data as C; _supervise_attention(T, C, sup) # an experiment only, CPU float32 (train_run reads data.CaptionDataset)
    if ent: T.caption_loss = _with_entropy(T.caption_loss, ent) # an experiment only: train_epoch looks it up at each batch
    def emit(row):
        rows.append(row)
        with open(out/'results.jsonl', 'a') as f: f.write(json.dumps(row) + '\n')
        print(json.dumps(row), flush=True)
    def scores(q): return dict(**{k: round(v, 4) for k, v in q['quality'].items()},
                               mass=round(q['grounding']['mass'], 4), bleu4=round(q['metrics']['BLEU-4'], 4),
                               cider=round(q['metrics']['CIDEr'], 4))
    from captionlab.data import Vocab
    t0, best = time.time(), None # best: (selection score, epoch, model, vocab), on the validation world
    cfg = TrainConfig(epochs=epochs, seed=seed, max_time=1e-6, **tr) # the time limit stops every call after one epoch
    shutil.rmtree(run_dir, ignore_errors=True) # each job trains afresh; its later epochs resume its own run
    for e in range(1, epochs + 1):
        res, _ = train_run(recs, ftr, run_dir, cfg, dec, progress=False, cell_positions=pos, resume=e > 1)
        if len(res.history) < e: break # early stopping fired before this epoch
        m = res.last_model.to(device).eval()
        vocab = Vocab.load(run_dir/'last'/'vocab.json')
        q, h = shapes_quality(m, vocab, val, fva, beam=3), res.history[-1]
        score = SELECT[select](q['quality'], h)
        if best is None or score > best[0]: best = (score, e, copy.deepcopy(m), vocab)
        emit(dict(run=name, seed=seed, split='val', epoch=e, train_loss=round(h['train_loss'], 4),
                  val_loss=round(h['val_loss'], 4), epoch_s=round(h['time'], 1), elapsed_s=round(time.time() - t0, 1),
                  best_val_loss_epoch=res.best_epoch + 1, **scores(q)))
    if best is None: return rows
    _, e, m, vocab = best # the run is over: the test world, once, at the checkpoint the validation world chose
    q = shapes_quality(m, vocab, test, fte, beam=3)
    emit(dict(run=name, seed=seed, split='test', epoch=e, selected_by=f'{select} on the validation world (seed '
              f"{WORLDS['val']}, {len(val)} scenes)", n_test=len(test), **scores(q)))
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
    os.environ.setdefault('HF_HUB_OFFLINE', '1')
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
    # one job per fresh spawned process: the run-time patches of one experiment die with its process
    with ProcessPoolExecutor(a.jobs, mp_context=multiprocessing.get_context('spawn'), max_tasks_per_child=1) as ex:
        list(ex.map(one_run, jobs))
