"""A dress rehearsal of the photo path at Flickr30k's real size, on the stand-in of `bench/flickr30k_standin.py`, with
the real commands a user runs (`--data hub`, offline from the stand-in's Hugging Face cache). A benchmark, not a test:
it prints a table of each stage's time, rate, peak resident memory and disk.

    python bench/flickr30k_rehearsal.py --work /tmp/f30k                      # every stage it has
    python bench/flickr30k_rehearsal.py --work /tmp/f30k --stages records speed
    python bench/flickr30k_rehearsal.py --work /tmp/f30k --extract-seconds 300  # extraction timed, then extrapolated

Stages:
- standin: write the stand-in (31,014 JPEGs in nlphuji's layout) unless it is there;
- weights: ResNet50's real architecture with random weights, saved to a file (ImageNet's cannot be fetched here);
- records: what every command does first, in one process: unpack the zip, parse the CSV, check the files, split,
  build the vocabulary (min_freq 5);
- speed: ResNet50's bare forward pass on this machine against decoding and resizing the stand-in's JPEGs, images/s;
- extract: `captionlab extract --data hub` for `--extract-seconds` (then killed with SIGKILL at that moment, as a
  crash would), resumed for `--resume-seconds`: the rows it had, the rows it redid, the rate; the full extraction's
  time is extrapolated from the rate (said so in the table);
- extract_all (only when named): `captionlab extract` of every image, to the end, into a store of its own, with its
  memory every 30 s; run again after an interruption, it goes on from the rows it has;
- fill: the rows extraction did not reach get random features (not a user's step: it lets the next stages run at
  full size without hours of extraction);
- train: `captionlab train` with the classic recipe in a pseudo-terminal, killed after `--train-seconds`: the time
  to its first batch, batches per second, peak memory, and an epoch extrapolated;
- train_resume (only when named): `captionlab train` until its first epoch is saved, killed a random 30-180 s into
  the second, then resumed: the epoch's real time and the work the kill cost;
- evaluate: `captionlab evaluate --beams 5` with METEOR on the 1,000 test images, with a checkpoint of the classic
  recipe's sizes and the real vocabulary but untrained (a trained one needs hours here): the machinery, timed.

Peak memory is sampled every half second over the process and its children: all resident pages, and in brackets
its own (anonymous) memory; the difference is file pages (the libraries' code, mapped files), which the kernel
drops when memory is short."""
import argparse, json, os, re, shutil, signal, subprocess, sys, threading, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
CLI = str(Path(PY).parent/'captionlab')  # the command a user runs, from this Python's environment

def env(work: Path) -> dict:
    return dict(os.environ, HF_HUB_CACHE=str(work/'hub'), HF_HUB_OFFLINE='1', PYTHONWARNINGS='ignore')

def descendants(pid: int) -> list:
    "The processes under `pid` (from /proc), the deepest first: a pseudo-terminal's child has a session of its own"
    kids = {}
    for d in Path('/proc').glob('[0-9]*'):
        try: kids.setdefault(int((d/'stat').read_text().rsplit(')', 1)[1].split()[1]), []).append(int(d.name))
        except (OSError, ValueError, IndexError): pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop(); out.append(p); todo += kids.get(p, [])
    return out[::-1]

def kill_tree(pid: int):
    for p in descendants(pid):
        try: os.kill(p, signal.SIGKILL)
        except ProcessLookupError: pass

def run(cmd: list, work: Path, seconds: float|None = None, log: Path|None = None, trace: Path|None = None,
        kill_when=None) -> dict:
    """Run `cmd` (killed with SIGKILL after `seconds`, if given): wall time, peak RSS of the process tree, exit status;
    with `trace`, a line of the tree's memory there every 30 s (seconds, resident MB, own MB), to show any growth;
    with `kill_when`, killed with SIGKILL once `kill_when()` is true (asked every half second)"""
    t0 = time.time()
    out = open(log, 'w') if log else subprocess.DEVNULL
    p = subprocess.Popen(cmd, env=env(work), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    kill = threading.Timer(seconds, kill_tree, [p.pid]) if seconds else None
    if kill: kill.start()
    peak, stop = {'rss': 0, 'anon': 0}, threading.Event()
    def sample(): # the process tree's resident memory, every half second: all of it, and its own (not file pages)
        tr, i = open(trace, 'a') if trace else None, 0
        if tr: print(f"# {time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(map(str, cmd))}", file=tr, flush=True)
        while not stop.wait(0.5):
            m = tree_memory(p.pid); peak.update({k: max(peak[k], m[k]) for k in peak}); i += 1
            if kill_when and kill_when(): kill_tree(p.pid)
            if tr and i % 60 == 0: print(f"{time.time() - t0:.0f} {m['rss'] // 1024} {m['anon'] // 1024}", file=tr, flush=True)
        if tr: tr.close()
    th = threading.Thread(target=sample, daemon=True); th.start()
    _, status, _ = os.wait4(p.pid, 0)
    stop.set(); th.join()
    if kill: kill.cancel()
    if log: out.close()
    return dict(wall_s=round(time.time() - t0, 1), peak_rss_mb=round(peak['rss'] / 1024),
                peak_anon_mb=round(peak['anon'] / 1024), rc=os.waitstatus_to_exitcode(status))

def tree_memory(pid: int) -> dict:
    """KB resident in `pid` and the processes under it: in all, and anonymous (its own memory; the rest is file pages,
    such as the libraries' code, which the kernel can drop)"""
    out = {'rss': 0, 'anon': 0}
    for q in descendants(pid):
        try: st = dict(l.split(':', 1) for l in Path(f'/proc/{q}/status').read_text().splitlines() if ':' in l)
        except OSError: continue
        out['rss'] += int(st.get('VmRSS', '0 kB').split()[0]); out['anon'] += int(st.get('RssAnon', '0 kB').split()[0])
    return out

def du(path: Path) -> float:
    "GB on disk under `path`"
    return sum(f.stat().st_blocks * 512 for f in Path(path).rglob('*') if f.is_file()) / 1e9 if Path(path).exists() else 0.

def snapshot(work: Path) -> Path:
    return next((work/'hub').glob('datasets--nlphuji--flickr30k/snapshots/*'))

RECORDS = r'''
import json, sys, time
t = {}; t0 = time.time()
from captionlab.pipeline import load_records
from captionlab.data import Vocab, split_records
recs = load_records('hub'); t['load_s'] = time.time() - t0; t1 = time.time()
sp = split_records(recs); t['split_s'] = time.time() - t1; t1 = time.time()
vocab = Vocab.build([c for r in sp['train'] for c in r.captions], min_freq=5); t['vocab_s'] = time.time() - t1
t.update(images=len(recs), splits={k: len(v) for k, v in sp.items()}, vocab=len(vocab),
         captions=sum(len(r.captions) for r in recs))
print(json.dumps(t))
'''

SPEED = r'''
import json, sys, time, torch
from pathlib import Path
from captionlab.encoder import ResNet50Encoder
from captionlab.images import ImageError, load_image, resize_uint8, normalize_batch
def read(f):
    try: return resize_uint8(load_image(f), 224)
    except ImageError: return None # the stand-in's unreadable files
files = sorted(Path(sys.argv[1]).glob('*.jpg'))[:int(sys.argv[2])]
t0 = time.time(); xs = [x for x in map(read, files) if x is not None]; dec = len(files) / (time.time() - t0)
enc = ResNet50Encoder(weights=None).eval(); x = normalize_batch(torch.stack(xs[:32]))
with torch.no_grad():
    enc(x[:4]); t0 = time.time(); n = 0
    while time.time() - t0 < 20: enc(x); n += len(x)
print(json.dumps(dict(decode_resize_per_s=dec, forward_per_s=n / (time.time() - t0), threads=torch.get_num_threads())))
'''

def stage_standin(work, a, rows):
    if list((work/'hub').glob('datasets--nlphuji--flickr30k/snapshots/*/flickr30k-images.zip')):
        print('stand-in already there'); return
    r = run([PY, str(ROOT/'bench'/'flickr30k_standin.py'), '--out', str(work), '--n', str(a.n)], work,
            log=work/'standin.log')
    rows.append(('write the stand-in (bench/flickr30k_standin.py)', r['wall_s'], f"{a.n / r['wall_s']:.0f} images/s",
                 (r['peak_rss_mb'], r['peak_anon_mb']), du(work/'hub'), 'measured'))

def stage_weights(work, a, rows):
    f = work/'resnet50-random.pth'
    if not f.exists():
        subprocess.run([PY, '-c', f"import torch, torchvision; torch.manual_seed(0); "
                        f"torch.save(torchvision.models.resnet50(weights=None).state_dict(), '{f}')"], check=True)
    print(f'weights: {f} ({f.stat().st_size / 1e6:.0f} MB)')

def stage_records(work, a, rows):
    r = run([PY, '-c', RECORDS], work, log=work/'records.log')
    t = json.loads((work/'records.log').read_text().strip().splitlines()[-1])
    print('records:', t)
    rows.append((f"unpack, read {t['images']:,} records, split {t['splits']}, vocabulary {t['vocab']:,} words",
                 r['wall_s'], f"{t['captions'] / r['wall_s']:,.0f} captions/s", (r['peak_rss_mb'], r['peak_anon_mb']),
                 du(snapshot(work)/'flickr30k-images-unpacked'), 'measured; disk: the unpacked images'))

def stage_speed(work, a, rows):
    imgs = snapshot(work)/'flickr30k-images-unpacked'/'flickr30k-images'
    r = run([PY, '-c', SPEED, str(imgs), '256'], work, log=work/'speed.log')
    t = json.loads((work/'speed.log').read_text().strip().splitlines()[-1])
    print('speed:', t)
    rows.append((f"ResNet50 forward alone ({t['threads']} threads, batch 32)", 20.0, f"{t['forward_per_s']:.1f} images/s",
                 (r['peak_rss_mb'], r['peak_anon_mb']), 0., 'measured'))
    rows.append(("decode and resize alone (one process)", None, f"{t['decode_resize_per_s']:.0f} images/s", None, 0.,
                 'measured'))

def done_rows(store: Path) -> int:
    try: return json.loads((store/'index.json').read_text())['done'].count('1')
    except (OSError, ValueError, KeyError): return 0

def extract_cmd(work, store, a) -> list:
    "The user's `captionlab extract` into `store`, with the stand-in's random ResNet50 weights, on the CPU"
    return [CLI, 'extract', '--data', 'hub', '--out', str(store), '--weights', str(work/'resnet50-random.pth'),
            '--device', 'cpu', '--num-workers', str(a.workers)]

def in_pty(cmd: list, tty: Path) -> list:
    "`cmd` in a pseudo-terminal (`script`), so its progress bars draw as in a terminal; what it shows goes to `tty`"
    return ['script', '-qfec', ' '.join(cmd), str(tty)]

def stage_extract(work, a, rows):
    store = work/'run'/'features'
    cmd = extract_cmd(work, store, a)
    before = done_rows(store)
    r1 = run(cmd, work, seconds=a.extract_seconds, log=work/'extract-1.log')
    had = done_rows(store)
    r2 = run(cmd, work, seconds=a.resume_seconds, log=work/'extract-2.log')
    after = done_rows(store)
    n = json.loads((store/'index.json').read_text()).get('rows') or {}
    total = len(n) or a.n
    rate = (after - had) / max(r2['wall_s'], 1e-9)
    print(f'extract: {before} rows before, {had} when killed after {r1["wall_s"]} s, {after} after {r2["wall_s"]} s more')
    rows.append((f"captionlab extract, killed (SIGKILL) after {r1['wall_s']:.0f} s", r1['wall_s'],
                 f"{(had - before) / max(r1['wall_s'], 1e-9):.1f} images/s (start-up included)", (r1['peak_rss_mb'], r1['peak_anon_mb']),
                 du(store), f"{had:,} of {total:,} rows kept"))
    rows.append((f"captionlab extract, resumed for {r2['wall_s']:.0f} s", r2['wall_s'], f"{rate:.1f} images/s",
                 (r2['peak_rss_mb'], r2['peak_anon_mb']), du(store), f"{after - had:,} rows more"))
    if rate > 0:
        rows.append(("captionlab extract, all images at that rate", round(total / rate, 0), f"{rate:.1f} images/s",
                     None, du(store), 'extrapolated'))

def stage_extract_all(work, a, rows):
    """`captionlab extract` of every image into a store of its own (`run/features-all`), to the end: run again after
    an interruption, it goes on from the rows it has, and the table says how many it started from"""
    store = work/'run'/'features-all'
    cmd = extract_cmd(work, store, a)
    before = done_rows(store)
    r = run(cmd, work, log=work/f'extract-all-{int(time.time())}.log', trace=work/'extract-all.mem')
    after = done_rows(store)
    rows.append((f"captionlab extract, every image, from {before:,} rows there (exit status {r['rc']})", r['wall_s'],
                 f"{(after - before) / max(r['wall_s'], 1e-9):.1f} images/s (start-up included)",
                 (r['peak_rss_mb'], r['peak_anon_mb']), du(store), f"{after:,} rows done"))

FILL = r'''
import sys, numpy as np
from captionlab.features import FeatureStore
s0 = FeatureStore.open(sys.argv[1]); s = FeatureStore(sys.argv[1], s0.index, writable=True)
bad = {s.rows[k] for k in s.failed}
todo = np.array([r for r in s.missing_rows() if r not in bad]); P, C = s.array.shape[1:]
rng = np.random.default_rng(0)
for rows in np.array_split(todo, max(1, len(todo) // 256)):
    s.write(rows, np.abs(rng.standard_normal((len(rows), P, C), dtype=np.float32)))  # ReLU features are >= 0
s.save_index(complete=True); print(len(todo))
'''

def stage_fill(work, a, rows):
    "The rows extraction did not reach, filled with random features: training and evaluation are timed, not judged"
    store = work/'run'/'features'
    r = run([PY, '-c', FILL, str(store)], work, log=work/'fill.log')
    n = int((work/'fill.log').read_text().split()[-1])
    rows.append((f"fill the {n:,} rows extraction did not reach with random features (a stand-in's step)", r['wall_s'],
                 '', (r['peak_rss_mb'], r['peak_anon_mb']), du(store), 'not a user step'))

BATCH = re.compile(r'(\d+)/(\d+) \[([\d:]+)<([\d:?]+)')

def stage_train(work, a, rows):
    """`captionlab train` with the classic recipe, in a pseudo-terminal (its bar shows each batch), killed after
    `--train-seconds`: time to the first batch, batches per second, peak memory; an epoch extrapolated"""
    out = work/'run'/'train'
    cmd = [CLI, 'train', '--data', 'hub', '--features', str(work/'run'/'features'),
           '--out', str(out), '--device', 'cpu', '--overwrite']
    r = run(in_pty(cmd, work/'train.tty'), work, seconds=a.train_seconds,
            log=work/'train.log')
    text = (work/'train.tty').read_text(errors='replace') if (work/'train.tty').exists() else ''
    seen = [(int(m.group(1)), int(m.group(2)), m.group(3)) for m in BATCH.finditer(text)]
    secs = lambda s: sum(int(x) * 60 ** i for i, x in enumerate(reversed(s.split(':'))))
    if not seen: rows.append(('captionlab train: no batch seen', r['wall_s'], '', (r['peak_rss_mb'], r['peak_anon_mb']), 0., '')); return
    n, total, el = seen[-1]
    rate = n / max(secs(el), 1)
    start = r['wall_s'] - secs(el)  # the process's time before its first batch: records, vocabulary, the store
    rows.append((f"captionlab train (classic recipe), killed after {r['wall_s']:.0f} s: {n:,} of {total:,} batches",
                 r['wall_s'], f"{rate:.2f} batches/s", (r['peak_rss_mb'], r['peak_anon_mb']), du(out), 'measured'))
    rows.append(("  time to the first training batch (start-up: records, vocabulary, store, model)", start, '', None,
                 0., 'measured'))
    rows.append((f"  one epoch of {total:,} batches at that rate", round(total / rate), f"{rate:.2f} batches/s", None,
                 0., 'extrapolated'))

def stage_train_resume(work, a, rows):
    """`captionlab train` (classic recipe) on the store of extract_all (else the filled one) until its first epoch is
    saved, killed with SIGKILL a random 30-180 s into the second, then `--resume`d for `--resume-seconds`: the first
    epoch's real time, where the resumed run starts, and the work the kill cost"""
    import random
    complete = lambda d: json.loads((d/'index.json').read_text()).get('complete') if (d/'index.json').exists() else False
    store = work/'run'/(a.train_store or ('features-all' if complete(work/'run'/'features-all') else 'features'))
    out = work/'run'/'train-resume'
    shutil.rmtree(out, ignore_errors=True)  # an earlier run's last/ must not pass for this one's
    cmd = [CLI, 'train', '--data', 'hub', '--features', str(store), '--out', str(out), '--device', 'cpu']
    t0, saved, wait = time.time(), [], random.Random().uniform(30, 180)
    def kill_when():
        if not saved and (out/'last'/'model.safetensors').exists(): saved.append(time.time())
        return bool(saved) and time.time() > saved[0] + wait
    r1 = run(in_pty(cmd + ['--overwrite'], work/'train-resume-1.tty'), work,
             log=work/'train-resume-1.log', kill_when=kill_when)
    if not saved: rows.append(('captionlab train: no epoch saved', r1['wall_s'], '', None, 0., f"exit {r1['rc']}")); return
    epoch1, lost = saved[0] - t0, r1['wall_s'] - (saved[0] - t0)
    r2 = run(in_pty(cmd + ['--resume'], work/'train-resume-2.tty'), work,
             seconds=a.resume_seconds, log=work/'train-resume-2.log')
    said = re.search(r'resuming after epoch (\d+)', (work/'train-resume-2.tty').read_text(errors='replace'))
    rows.append((f"captionlab train, {store.name}: start-up, epoch 1 and its validation, until last/ was saved",
                 round(epoch1), '', (r1['peak_rss_mb'], r1['peak_anon_mb']), du(out), 'measured'))
    rows.append((f"  killed (SIGKILL) {lost:.0f} s into epoch 2; --resume said: "
                 f"{said.group(0) if said else 'nothing (see train-resume-2.tty)'}", r2['wall_s'], '',
                 (r2['peak_rss_mb'], r2['peak_anon_mb']), du(out), f"{lost:.0f} s of work redone"))

UNTRAINED = r'''
import sys, torch
from captionlab.pipeline import load_records
from captionlab.data import Vocab, split_records
from captionlab.decoder import CaptionDecoder, DecoderConfig
from captionlab.checkpoint import save_checkpoint
from captionlab.training import TrainConfig
from captionlab.features import FeatureStore
sp = split_records(load_records('hub'))
vocab = Vocab.build([c for r in sp['train'] for c in r.captions], min_freq=5)
st = FeatureStore.open(sys.argv[1]); torch.manual_seed(0)
dcfg = DecoderConfig(vocab_size=len(vocab), enc_dim=st.array.shape[2])
meta = dict(encoder=st.index['encoder'], encoder_weights=st.index['weights'], cell_positions=0., min_freq=5, epoch=0)
save_checkpoint(sys.argv[2], CaptionDecoder(dcfg), vocab, dcfg, TrainConfig(), meta=meta,
                splits={k: [r.image_id for r in v] for k, v in sp.items()})
'''

def stage_evaluate(work, a, rows):
    """`captionlab evaluate --beams 5` (METEOR included) on the 1,000 test images, with an untrained checkpoint of
    the classic recipe's sizes and the real vocabulary (written here: a trained one would need hours)"""
    ckpt, store = work/'run'/'untrained', work/'run'/'features'
    subprocess.run([PY, '-c', UNTRAINED, str(store), str(ckpt)], env=env(work), check=True)
    cmd = [CLI, 'evaluate', '--checkpoint', str(ckpt), '--data', 'hub', '--features',
           str(store), '--beams', '5', '--out', str(work/'report'), '--device', 'cpu']
    r = run(in_pty(cmd, work/'evaluate.tty'), work, seconds=a.evaluate_seconds,
            log=work/'evaluate.log')
    done = (work/'report'/'metrics.json').exists()
    rows.append(("captionlab evaluate --beams 5, METEOR, 1,000 test images (an untrained classic decoder)",
                 r['wall_s'], f"{1000 / r['wall_s']:.1f} images/s" if done else 'not finished',
                 (r['peak_rss_mb'], r['peak_anon_mb']), du(work/'report'), 'measured' if done else 'killed'))

STAGES = dict(standin=stage_standin, weights=stage_weights, records=stage_records, speed=stage_speed,
              extract=stage_extract, extract_all=stage_extract_all, fill=stage_fill, train=stage_train,
              train_resume=stage_train_resume, evaluate=stage_evaluate)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--work', required=True, help='folder for the stand-in and the run (tens of GB)')
    ap.add_argument('--n', type=int, default=31014, help='images of the stand-in (default: the real count)')
    ap.add_argument('--stages', nargs='+', default=[s for s in STAGES if s not in ('extract_all', 'train_resume')], choices=list(STAGES),
                    help='default: all but extract_all and train_resume (hours on a CPU)')
    ap.add_argument('--extract-seconds', type=float, default=300, help='extraction time before the kill')
    ap.add_argument('--resume-seconds', type=float, default=120, help='time a resumed extraction or training runs')
    ap.add_argument('--workers', type=int, default=1, help='image decoding workers of `captionlab extract`')
    ap.add_argument('--train-seconds', type=float, default=240, help='training time before the kill')
    ap.add_argument('--train-store', choices=['features', 'features-all'],
                    help="train_resume's store: the filled one or extract_all's (default: extract_all's when complete)")
    ap.add_argument('--evaluate-seconds', type=float, default=1800, help='most time evaluation may take')
    a = ap.parse_args()
    work = Path(a.work); work.mkdir(parents=True, exist_ok=True)
    rows = []
    for s in a.stages: STAGES[s](work, a, rows)
    print(f"\n{'stage':<72} {'time':>8} {'rate':>34} {'peak RSS (own)':>18} {'disk':>8}  note")
    for name, t, rate, rss, disk, note in rows:
        ts = '' if t is None else f'{t:.0f} s'
        rs = '' if rss is None else f'{rss[0]:,} ({rss[1]:,}) MB' if isinstance(rss, tuple) else f'{rss:,} MB'
        print(f"{name:<72} {ts:>8} {rate:>34} {rs:>18} {disk:>6.2f} GB  {note}")
    (work/'rehearsal.json').write_text(json.dumps(rows, indent=1))

if __name__ == '__main__': main()
