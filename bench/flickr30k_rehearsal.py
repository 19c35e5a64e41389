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
  time is extrapolated from the rate (said so in the table)."""
import argparse, json, os, random, signal, subprocess, sys, threading, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

def env(work: Path) -> dict:
    return dict(os.environ, HF_HUB_CACHE=str(work/'hub'), HF_HUB_OFFLINE='1', PYTHONWARNINGS='ignore')

def run(cmd: list, work: Path, seconds: float|None = None, log: Path|None = None) -> dict:
    "Run `cmd` (killed with SIGKILL after `seconds`, if given): wall time, peak RSS of the process tree, exit status"
    t0 = time.time()
    out = open(log, 'w') if log else subprocess.DEVNULL
    p = subprocess.Popen(cmd, env=env(work), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    kill = threading.Timer(seconds, lambda: os.killpg(p.pid, signal.SIGKILL)) if seconds else None
    if kill: kill.start()
    _, status, ru = os.wait4(p.pid, 0)  # this process's own peak (Linux: KB), not its worker processes'
    if kill: kill.cancel()
    if log: out.close()
    return dict(wall_s=round(time.time() - t0, 1), peak_rss_mb=round(ru.ru_maxrss / 1024),
                rc=os.waitstatus_to_exitcode(status))

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
                 r['peak_rss_mb'], du(work/'hub'), 'measured'))

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
                 r['wall_s'], f"{t['captions'] / r['wall_s']:,.0f} captions/s", r['peak_rss_mb'],
                 du(snapshot(work)/'flickr30k-images-unpacked'), 'measured; disk: the unpacked images'))

def stage_speed(work, a, rows):
    imgs = snapshot(work)/'flickr30k-images-unpacked'/'flickr30k-images'
    r = run([PY, '-c', SPEED, str(imgs), '256'], work, log=work/'speed.log')
    t = json.loads((work/'speed.log').read_text().strip().splitlines()[-1])
    print('speed:', t)
    rows.append((f"ResNet50 forward alone ({t['threads']} threads, batch 32)", 20.0, f"{t['forward_per_s']:.1f} images/s",
                 r['peak_rss_mb'], 0., 'measured'))
    rows.append(("decode and resize alone (one process)", None, f"{t['decode_resize_per_s']:.0f} images/s", None, 0.,
                 'measured'))

def done_rows(store: Path) -> int:
    try: return json.loads((store/'index.json').read_text())['done'].count('1')
    except (OSError, ValueError, KeyError): return 0

def stage_extract(work, a, rows):
    store = work/'run'/'features'
    cmd = ['captionlab', 'extract', '--data', 'hub', '--out', str(store), '--weights', str(work/'resnet50-random.pth'),
           '--device', 'cpu', '--num-workers', str(a.workers)]
    cmd[0] = str(Path(PY).parent/'captionlab')
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
                 f"{(had - before) / max(r1['wall_s'], 1e-9):.1f} images/s (start-up included)", r1['peak_rss_mb'],
                 du(store), f"{had:,} of {total:,} rows kept"))
    rows.append((f"captionlab extract, resumed for {r2['wall_s']:.0f} s", r2['wall_s'], f"{rate:.1f} images/s",
                 r2['peak_rss_mb'], du(store), f"{after - had:,} rows more"))
    if rate > 0:
        rows.append(("captionlab extract, all images at that rate", round(total / rate, 0), f"{rate:.1f} images/s",
                     None, du(store), 'extrapolated'))

STAGES = dict(standin=stage_standin, weights=stage_weights, records=stage_records, speed=stage_speed,
              extract=stage_extract)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--work', required=True, help='folder for the stand-in and the run (tens of GB)')
    ap.add_argument('--n', type=int, default=31014, help='images of the stand-in (default: the real count)')
    ap.add_argument('--stages', nargs='+', default=list(STAGES), choices=list(STAGES))
    ap.add_argument('--extract-seconds', type=float, default=300, help='extraction time before the kill')
    ap.add_argument('--resume-seconds', type=float, default=120, help='extraction time after the resume')
    ap.add_argument('--workers', type=int, default=1, help='image decoding workers of `captionlab extract`')
    a = ap.parse_args()
    work = Path(a.work); work.mkdir(parents=True, exist_ok=True)
    random.seed(0); rows = []
    for s in a.stages: STAGES[s](work, a, rows)
    print(f"\n{'stage':<72} {'time':>8} {'rate':>34} {'peak RSS':>9} {'disk':>8}  note")
    for name, t, rate, rss, disk, note in rows:
        ts = '' if t is None else f'{t:.0f} s'; rs = '' if rss is None else f'{rss:,} MB'
        print(f"{name:<72} {ts:>8} {rate:>34} {rs:>9} {disk:>6.2f} GB  {note}")
    (work/'rehearsal.json').write_text(json.dumps(rows, indent=1))

if __name__ == '__main__': main()
