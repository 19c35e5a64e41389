"""A stand-in for Flickr30k at its real size, in nlphuji's published layout, laid out as the Hugging Face cache leaves a
download, so that the real commands run on it offline (`--data hub` with `HF_HUB_OFFLINE=1`):

    python bench/flickr30k_standin.py --out /tmp/f30k              # 31,014 images, seed 0 (a few minutes, ~4.3 GB)
    HF_HUB_CACHE=/tmp/f30k/hub HF_HUB_OFFLINE=1 captionlab extract --data hub --out runs/f30k/features ...

What it writes, under OUT/hub/datasets--nlphuji--flickr30k/snapshots/<commit>/ (with refs/main naming the commit):
- `flickr_annotations_30k.csv`: the columns raw (a JSON list of five captions), sentids (a JSON list of their ids),
  split (the Karpathy split: 29,000 train, 1,014 val, 1,000 test), filename (`<img_id>.jpg`) and img_id;
- `flickr30k-images.zip`: the JPEGs under `flickr30k-images/`, stored (JPEG does not compress), about 140 KB each as
  in the real zip.

Images are smooth random colour fields with fine noise (they decode and compress like photographs; what is
rehearsed is the machinery, not quality): mostly 500×333 to 500×375 landscape, a fifth portrait, a few other sizes;
about 0.5% grayscale, 0.2% CMYK, 0.5% stored sideways with an EXIF orientation tag, and a handful unreadable
(truncated). Captions: five per image, their lengths drawn like Flickr30k's (mean about 12 words), their words from a
Zipf vocabulary of 20,000 made-up words whose tail leaves about 7,800 words seen at least 5 times, as in Flickr30k.
Everything is drawn from `--seed`: the same seed writes the same files."""
import argparse, csv, io, json, os, time, zipfile
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image

REPO, COMMIT = 'nlphuji/flickr30k', 'f30c0000000000000000000000000000000000aa'
SPLITS = (('train', 29000), ('val', 1014), ('test', 1000))
N_IMAGES = sum(n for _, n in SPLITS)  # 31,014
VOCAB, ZIPF = 20000, 1.30            # word types and the Zipf exponent: ~7,800 words seen 5 times or more
SYLLABLES = [c + v for c in 'bcdfghklmnprstvwz' for v in 'aeiou']

def words(seed: int) -> list:
    "VOCAB distinct made-up words, the most frequent first (short ones first, as in English)"
    rng, out, seen = np.random.default_rng(seed), [], set()
    while len(out) < VOCAB:
        n = 1 + min(3, int(rng.exponential(0.9 + len(out) / 8000)))
        w = ''.join(SYLLABLES[i] for i in rng.integers(0, len(SYLLABLES), n))
        if w not in seen: seen.add(w); out.append(w)
    return out

def captions(seed: int, n_images: int) -> list:
    "Five captions per image: lengths like Flickr30k's, words from the Zipf vocabulary, written as annotators do"
    rng, vocab = np.random.default_rng(seed + 1), np.array(words(seed))
    p = 1 / np.arange(1, VOCAB + 1) ** ZIPF; p /= p.sum()
    lens = rng.gamma(6, 12.3 / 6, n_images * 5).round().clip(1, 80).astype(int)
    ids = rng.choice(VOCAB, size=lens.sum(), p=p)
    out, k = [], 0
    for L in lens:
        w = vocab[ids[k:k + L]]; k += L
        out.append(' '.join(w).capitalize() + '.')
    return [out[i * 5:(i + 1) * 5] for i in range(n_images)]

def kind_of(i: int, seed: int) -> dict:
    "The i-th image's size and oddity, drawn from the seed"
    rng = np.random.default_rng([seed, i])
    r = rng.random()
    if r < 0.72: w, h = 500, int(rng.choice([333, 334, 375, 332, 340]))
    elif r < 0.92: w, h = int(rng.choice([333, 375, 334])), 500
    else: w, h = [(500, 281), (500, 500), (400, 500), (500, 400), (375, 500), (500, 313)][int(rng.integers(6))]
    odd = rng.random()
    mode = 'L' if odd < 0.005 else 'CMYK' if odd < 0.007 else 'RGB'
    return dict(w=w, h=h, mode=mode, sideways=0.007 <= odd < 0.012, broken=False)

def jpeg(args) -> bytes:
    "One image's JPEG bytes (a worker's job)"
    i, seed, k = args
    rng = np.random.default_rng([seed, i, 1])
    w, h = (k['h'], k['w']) if k['sideways'] else (k['w'], k['h'])       # stored sideways, turned upright by EXIF
    lo = rng.random((h // 25 + 2, w // 25 + 2, 3))
    x = np.asarray(Image.fromarray((lo * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC), dtype=np.float32)
    x = (x + rng.normal(0, 20, (h, w, 3))).clip(0, 255).astype(np.uint8)   # (h, w, 3)
    im = Image.fromarray(x)
    if k['mode'] != 'RGB': im = im.convert(k['mode'])
    b = io.BytesIO()
    if k['sideways']:
        exif = Image.Exif(); exif[0x0112] = 6                          # Orientation 6: rotate 90° clockwise to view
        im.save(b, 'JPEG', quality=95, exif=exif.tobytes())
    else: im.save(b, 'JPEG', quality=95)
    data = b.getvalue()
    return data[:len(data) // 3] if k['broken'] else data                # a truncated file: unreadable

def snapshot(out: Path) -> Path: return out/'hub'/f"datasets--{REPO.replace('/', '--')}"/'snapshots'/COMMIT

def photo_ids(n: int, seed: int) -> np.ndarray: # Flickr-like photo ids, the file names
    return 1000000000 + np.random.default_rng(seed + 2).choice(9000000000, n, replace=False)

def write_annotations(snap: Path, n: int, seed: int):
    "The annotation CSV (raw, sentids, split, filename, img_id); returns the photo ids and the split sizes"
    ids = photo_ids(n, seed)
    sizes = [n * s // N_IMAGES for _, s in SPLITS]; sizes[0] += n - sum(sizes)
    split = np.repeat([s for s, _ in SPLITS], sizes); np.random.default_rng(seed + 4).shuffle(split)
    caps = captions(seed, n)
    with open(snap/'flickr_annotations_30k.csv', 'w', newline='', encoding='utf-8') as f:
        wr = csv.writer(f); wr.writerow(['raw', 'sentids', 'split', 'filename', 'img_id'])
        for i in range(n):
            wr.writerow([json.dumps(caps[i]), json.dumps(list(range(5 * i, 5 * i + 5))), split[i], f'{ids[i]}.jpg', i])
    return ids, sizes

def write(out: Path, n: int = N_IMAGES, seed: int = 0, workers: int = 2, n_broken: int = 5) -> Path:
    "Write the stand-in under `out`; returns the snapshot folder"
    t0 = time.time()
    snap = snapshot(out); snap.mkdir(parents=True, exist_ok=True)
    refs = snap.parent.parent/'refs'; refs.mkdir(exist_ok=True); (refs/'main').write_text(COMMIT)
    kinds = [kind_of(i, seed) for i in range(n)]
    for i in np.random.default_rng(seed + 3).choice(n, min(n_broken, n), replace=False): kinds[i]['broken'] = True
    ids, sizes = write_annotations(snap, n, seed)
    tmp = snap/'flickr30k-images.zip.partial'
    with zipfile.ZipFile(tmp, 'w', zipfile.ZIP_STORED) as z, Pool(workers) as pool:
        for i, data in enumerate(pool.imap(jpeg, ((i, seed, kinds[i]) for i in range(n)), chunksize=32)):
            z.writestr(f'flickr30k-images/{ids[i]}.jpg', data)
            if (i + 1) % 2000 == 0 or i + 1 == n:
                print(f'{i + 1:,}/{n:,} images, {time.time() - t0:.0f} s', flush=True)
    os.replace(tmp, snap/'flickr30k-images.zip')
    gb = (snap/'flickr30k-images.zip').stat().st_size / 1e9
    odd = {k: sum(x['mode'] == k for x in kinds) for k in ('L', 'CMYK')}
    odd.update({k: sum(x[k] for x in kinds) for k in ('sideways', 'broken')})
    print(f"wrote {snap}: {n:,} images ({gb:.2f} GB zip, {gb * 1e6 / n:.0f} KB per image; grayscale {odd['L']}, "
          f"CMYK {odd['CMYK']}, EXIF-rotated {odd['sideways']}, unreadable {odd['broken']}), splits "
          f"{dict(zip([s for s, _ in SPLITS], sizes))}, in {time.time() - t0:.0f} s")
    return snap

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', required=True, help='folder to write (its hub/ is a Hugging Face cache)')
    ap.add_argument('--n', type=int, default=N_IMAGES, help=f'images (default {N_IMAGES:,}, the real count)')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--workers', type=int, default=os.cpu_count() or 1, help='processes encoding JPEGs')
    ap.add_argument('--captions-only', action='store_true',
                    help="rewrite only the annotation CSV of a stand-in already there (its images stay: same ids)")
    a = ap.parse_args()
    if a.captions_only:  # the images stay, so their names must be the ones this --n and --seed give
        snap = snapshot(Path(a.out))
        with zipfile.ZipFile(snap/'flickr30k-images.zip') as z: have = {Path(n).name for n in z.namelist()}
        if have != {f'{i}.jpg' for i in photo_ids(a.n, a.seed)}:
            raise SystemExit(f"{snap}: its images are not those of --n {a.n} --seed {a.seed}; write the stand-in again")
        write_annotations(snap, a.n, a.seed); print('rewrote', snap/'flickr_annotations_30k.csv')
    else: write(Path(a.out), a.n, a.seed, a.workers)
