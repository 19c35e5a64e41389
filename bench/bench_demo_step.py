"""The demo's training step: a candidate decoder against a reference, on the demo's own batches.

Draws the demo's training world (4,000 scenes of world 0, cached in --data), encodes it with the shipped
ShapesEncoder, and builds the demo's decoder (`DEMO_DECODER`, features with cell positions) and batches
(`DEMO_TRAIN`: 256 captions, label smoothing 0.1). The reference is `captionlab/decoder.py` as it was at git
revision --ref (read with `git show`); the candidate is this checkout's `CaptionDecoder` (uncommitted changes
included), or with --variant an experiment defined here. First a check: from one initialisation, a few Adam
steps of each must give equal losses and equal gradients, bit for bit (`torch.equal`), so that the demo's
published numbers stay true. Then the timing: forward, loss and backward of the same batches, in rounds that
alternate reference and candidate in one process, so that a machine busy with something else slows both alike;
the median round is printed.

    python bench/bench_demo_step.py                        # this checkout's decoder against HEAD's
    python bench/bench_demo_step.py --variant sinks --rounds 9

--variant sinks: the slices the step loop reads (each step's word gates, the projections of the captions still
running) get their gradients added into one buffer per tensor, handed over once after the loop, instead of
autograd's zero-padded full-size gradient per slice; and the word gates' two parts stay two tensors (no
`torch.cat`). Measured 2026-12-03 (AMD EPYC, CPU family 26, 2 cores, torch 2.14.1, 2 threads): bit for bit equal,
and no faster beyond the noise (experiments page, "Data movement out of the training step"), so the library
does not have it.
"""
import argparse, importlib.util, statistics, subprocess, sys, tempfile, time
from pathlib import Path
import torch
import torch.nn.functional as F
from captionlab import decoder as D
from captionlab.shapes import make_shapes_world
from captionlab.pipeline import (word_groups, load_records, extract, default_min_freq, DEMO_DECODER, DEMO_TRAIN, DEMO_EPOCHS,
                                 DEMO_POSITIONS)
from captionlab.features import CellPositions, preload
from captionlab.data import PAD, Vocab, CaptionDataset, split_records
from captionlab.decoder import DecoderConfig, CaptionDecoder, _DeferredGrads
from captionlab.training import TrainConfig, make_loader, caption_loss

# ---------------------------------------------------------------- --variant sinks (an experiment, not the library)
class _Sink:
    "A tensor read in slices, one per step, whose slices' gradients are added into one buffer, `grad`."
    def __init__(self, x): self.x, self.grad = x, torch.zeros_like(x)
    def __getitem__(self, idx): return _SinkSlice.apply(self.x, self, idx)

class _SinkSlice(torch.autograd.Function):
    "x[idx], whose gradient goes into `sink.grad[idx]`, not back to x: `_SinkGrads` hands x the sum, once."
    @staticmethod
    def forward(ctx, x, sink, idx): ctx.sink, ctx.idx = sink, idx; return x[idx]
    @staticmethod
    def backward(ctx, g): ctx.sink.grad[ctx.idx] += g; return None, None, None

class _SinkGrads(torch.autograd.Function):
    "`_DeferredGrads` (identity on h0, weight gradients after every step's backward) that also gives each sink's x its buffer."
    @staticmethod
    def forward(ctx, h0, accs, sinks, *ws_xs): ctx.accs, ctx.sinks = accs, sinks; return h0.view_as(h0)
    @staticmethod
    def backward(ctx, g):
        g, _, *gws = _DeferredGrads.backward(ctx, g)
        return g, None, None, *gws, *[s.grad for s in ctx.sinks]

class SinkDecoder(CaptionDecoder):
    "`CaptionDecoder`'s training forward (CPU, shrinking batch) with the slices' gradients gathered in sinks."
    def forward(self, feats, tokens):
        B, T = tokens.shape[0], tokens.shape[1] - 1
        steps, order = (tokens[:, 1:] != PAD).sum(1).sort(descending=True)                # (B,) longest first
        running = (steps[None] > torch.arange(T)[:, None]).sum(1).tolist()                # captions running
        feats0, feats = feats, feats.index_select(0, order)                                # (B, P, C)
        mem = self._memory(feats)
        e = self.embed(tokens[order, :-1].flatten())                                       # (B·T, E)
        w_e = self.lstm.weight_ih[:, :self.cfg.emb_dim]                                    # (4H, E)
        gx = F.linear(e, w_e, self.lstm.bias_ih + self.lstm.bias_hh).view(B, T, -1)       # (B, T, 4H)
        qy = self.word_att(e).view(B, T, -1) if self.cfg.word_query else None             # (B, T, A)
        h, c = (s[:, None] for s in self.init_state(feats))                                # (B, 1, H)
        mem.acc = ([], [])
        sinks = [_Sink(x) for x in (mem.proj, gx, qy) if x is not None]
        proj, gx, qy = sinks + [None] * (3 - len(sinks))
        h = _SinkGrads.apply(h, mem.acc, sinks, mem.w_h, mem.w_z, *[s.x for s in sinks])  # (B, 1, H)
        hs, hp, alphas = [], [], []
        for t, b in enumerate(running):
            if b == 0: break
            m = mem.head(b); m.proj = proj[:b]                                             # (b, P, A)
            x = (None if qy is None else qy[:b, t:t + 1], gx[:b, t:t + 1])                 # (b, 1, A), (b, 1, 4H)
            hp.append(h[:b, 0])
            h, c, a = self._cell(m, x, h[:b], c[:b])                                       # (b, 1, H), .., (b, 1, P)
            hs.append(h[:, 0]); alphas.append(a[:, 0])
        rows = torch.cat([order[:b] for b in running])                                     # (N,)
        cols = torch.cat([torch.full((b,), t) for t, b in enumerate(running)])             # (N,)
        alphas = feats.new_zeros(B, T, alphas[0].shape[1]).index_put((rows, cols), torch.cat(alphas))  # (B, T, P)
        ctx = self.gate(torch.cat(hp)) * (alphas @ feats0)[rows, cols] if self.cfg.deep_output else None
        logits = self.output(torch.cat(hs), tokens[rows, cols], ctx)                       # (N, V)
        return logits.new_zeros(B, T, logits.shape[1]).index_put((rows, cols), logits), alphas

    def _cell(self, mem, words, h, c):
        "`CaptionDecoder._cell` with the word's share given as a pair (B, K, A) or None, (B, K, 4H): no split."
        if not isinstance(words, tuple): return super()._cell(mem, words, h, c)
        (qy, gx), (acc_h, acc_z), A, H = words, mem.acc or (None, None), self.cfg.att_dim, self.cfg.hid_dim
        q, g, hh = (D._linear(h, mem.w_h, acc_h) + mem.b_h).split([A, 1, 4 * H], -1)     # (B, K, A), .., (B, K, 4H)
        if qy is not None: q = q + qy
        alpha = D._scores(self.attention, mem.proj, q).softmax(-1)                         # (B, K, P)
        z = D._linear(alpha @ mem.feats, mem.w_z, acc_z)                                   # (B, K, 4H)
        gates = gx + hh + torch.sigmoid(g) * z                                             # (B, K, 4H)
        i, f, _, o = torch.sigmoid(gates).chunk(4, -1)
        c = f * c + i * torch.tanh(gates[..., 2 * H:3 * H])
        return o * torch.tanh(c), c, alpha

VARIANTS = {'sinks': SinkDecoder}

def reference(rev):
    "The `CaptionDecoder` class of captionlab/decoder.py at git revision `rev`."
    root = Path(__file__).resolve().parent.parent
    src = subprocess.run(['git', 'show', f'{rev}:captionlab/decoder.py'], cwd=root, check=True,
                         capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp())/'decoder_ref.py'; path.write_text(src)
    spec = importlib.util.spec_from_file_location('captionlab.decoder_ref', path)
    mod = importlib.util.module_from_spec(spec); sys.modules[spec.name] = mod; spec.loader.exec_module(mod)
    return mod.CaptionDecoder, mod.DecoderConfig

def batches(data, n):
    "The first n training batches of the demo (its default seed), the vocabulary size, the feature width and the vocabulary."
    if not (data/'data'/'shapes.json').exists(): make_shapes_world(data/'data', 4000, seed=0)
    recs = load_records(data/'data')
    fs = extract(recs, data/'features', 'shapes-cnn', progress=False)
    cfg = TrainConfig(epochs=DEMO_EPOCHS, **DEMO_TRAIN)
    # what `captionlab.pipeline.train_run` builds for the demo (its test world is apart: no test split here)
    sp = split_records(recs, val_frac=0.1, seed=cfg.seed, n_test=0)
    vocab = Vocab.build([c for r in sp['train'] for c in r.captions], min_freq=default_min_freq(recs))
    feats = preload(CellPositions(fs, DEMO_POSITIONS), [r.image_id for r in sp['train']])
    ds = CaptionDataset(sp['train'], feats, vocab, cfg.max_len)
    C = feats[sp['train'][0].image_id].shape[1]
    return [b for _, b in zip(range(n), make_loader(ds, cfg))], len(vocab), C, vocab

def step(m, b):
    "Forward, the demo's loss, backward; the loss."
    f, tok, ex = b
    logits, alphas = m(f, tok)                                                   # (B, T, V), (B, T, P)
    loss, _, _ = caption_loss(logits, alphas, tok, 0., ex, label_smoothing=DEMO_TRAIN['label_smoothing'])
    loss.backward()
    return loss.detach()

def trajectory(m, bs, lr):
    "Losses and gradients of Adam steps on the batches, in order."
    opt, out = torch.optim.Adam(m.parameters(), lr=lr), []
    for b in bs:
        opt.zero_grad(); loss = step(m, b)
        out.append((loss, [p.grad.clone() for p in m.parameters()])); opt.step()
    return out

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--ref', default='HEAD', help='git revision of the reference decoder')
    p.add_argument('--variant', choices=sorted(VARIANTS), help='the candidate: an experiment defined here')
    p.add_argument('--data', default=str(Path(tempfile.gettempdir())/'bench_demo_step'), help='world and features')
    p.add_argument('--batches', type=int, default=12, help='batches per round')
    p.add_argument('--rounds', type=int, default=7)
    p.add_argument('--threads', type=int, default=None, help='torch threads (default: torch\'s, the cores)')
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    bs, V, C, vocab = batches(Path(a.data), a.batches)
    dec = dict(DEMO_DECODER, context_words=word_groups(DEMO_DECODER['context_words'], vocab)) # words -> ids
    Ref, RefConfig = reference(a.ref)
    def make(cls, cfg):
        torch.manual_seed(0); return cls(cfg(vocab_size=V, enc_dim=C, **dec))
    ref, ours = make(Ref, RefConfig), make(VARIANTS.get(a.variant, CaptionDecoder), DecoderConfig)
    ours.load_state_dict(ref.state_dict())
    lr = DEMO_TRAIN['lr']
    tr, to = trajectory(ref, bs, lr), trajectory(ours, bs, lr)
    same = all(torch.equal(lr_, lo) and all(torch.equal(x, y) for x, y in zip(gr, go))
               for (lr_, gr), (lo, go) in zip(tr, to))
    print(f'{len(bs)} Adam steps from one initialisation: losses and gradients '
          f'{"equal, bit for bit" if same else "DIFFERENT"}')
    times = {'reference': [], 'candidate': []}
    for m in (ref, ours): step(m, bs[0])                                          # warm-up
    for _ in range(a.rounds):
        for name, m in (('reference', ref), ('candidate', ours)):
            t = time.perf_counter()
            for b in bs: m.zero_grad(); step(m, b)
            times[name].append((time.perf_counter() - t) / len(bs))
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in times.items():
        print(f'{k:10} {med[k] * 1e3:6.1f} ms per batch of {len(bs[0][1])} (median of {a.rounds} rounds; '
              f'rounds {min(v) * 1e3:.1f}-{max(v) * 1e3:.1f})')
    n = torch.get_num_threads()
    print(f'candidate: {med["candidate"] / med["reference"] - 1:+.1%} time per batch against the reference '
          f'({n} thread{"s" * (n > 1)}, torch {torch.__version__})')
    if not same: sys.exit(1)

if __name__ == '__main__': main()
