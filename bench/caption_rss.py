"""Peak memory of `captionlab caption` on a folder of 1,000 and of 10,000 ShapesWorld scenes (a check, not a test).

Trains a miniature demo model once (or takes --model), draws the scenes once, then runs the console command on each
folder in its own process, writing --output captions.jsonl, and prints its peak resident memory (ru_maxrss of the
child), its time and its images per second, for --rounds rounds (median and worst). Memory that stays flat from
1,000 to 10,000 images shows the command streams: it holds a batch, not the folder.

    python bench/caption_rss.py --out /tmp/caption_rss            # 1,000 and 10,000 images, 3 rounds each
"""
import argparse, os, statistics, subprocess, sys, time
from pathlib import Path
from captionlab.shapes import make_shapes_world

def _model(out: Path) -> Path:
    "A saved model to caption with (a miniature demo: the weights do not change the memory)."
    from captionlab.pipeline import run_demo
    from captionlab.training import TrainConfig
    if not (out/'demo'/'model'/'config.json').exists():
        run_demo(out/'demo', n_train=120, n_test=20, cfg=TrainConfig(epochs=1), dec=dict(emb_dim=16, hid_dim=32, att_dim=16),
                 meteor=False, progress=False)
    return out/'demo'/'model'

def _scenes(out: Path, n: int) -> Path:
    d = out/f'scenes_{n}'
    if not (d/'shapes.json').exists(): make_shapes_world(d, n, seed=11)
    return d/'images'

def _run(model: Path, images: Path, dst: Path, batch_size: int) -> tuple:
    "One `captionlab caption` process: (its peak RSS in MiB, seconds, result lines written)."
    t, err = time.perf_counter(), dst.with_suffix('.err')
    with open(err, 'w') as e:
        p = subprocess.Popen([sys.executable, '-c', 'from captionlab.cli import main; main()', 'caption', str(images),
                              '--checkpoint', str(model), '--output', str(dst), '--batch-size', str(batch_size),
                              '--quiet'], stdout=subprocess.DEVNULL, stderr=e)
        _, status, ru = os.wait4(p.pid, 0) # this child's own rusage, not the largest of all children so far
    secs = time.perf_counter() - t
    if status: raise SystemExit(f"captionlab caption failed ({status}): {err.read_text()[-2000:]}")
    return ru.ru_maxrss / 1024, secs, sum(1 for _ in open(dst)) # ru_maxrss: KiB on Linux

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default='/tmp/caption_rss', help='model, scenes and outputs go here')
    ap.add_argument('--model', help='a saved model folder (default: train a miniature demo model)')
    ap.add_argument('--sizes', type=int, nargs='+', default=[1000, 10000], help='folder sizes')
    ap.add_argument('--rounds', type=int, default=3, help='processes per size')
    ap.add_argument('--batch-size', type=int, default=32, help='images per batch (the command\'s default)')
    a = ap.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    model = Path(a.model) if a.model else _model(out)
    print(f"model {model}; batch size {a.batch_size}; torch threads: the default")
    for n in a.sizes:
        images = _scenes(out, n); rss, secs = [], []
        for k in range(a.rounds):
            peak, s, lines = _run(model, images, out/f'captions_{n}.jsonl', a.batch_size)
            if lines != n: raise SystemExit(f"{lines} results for {n} images")
            rss.append(peak); secs.append(s)
        print(f"{n:>6} images: peak RSS median {statistics.median(rss):.0f} MiB (worst {max(rss):.0f}); "
              f"{statistics.median(secs):.1f} s median ({n / statistics.median(secs):.0f} images/s; worst {max(secs):.1f} s)")

if __name__ == '__main__': main()
