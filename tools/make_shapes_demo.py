"""Make the trained captioner the package ships, `captionlab/assets/shapes-demo/`: `captionlab demo` at its default
seed, then the model saved without the encoder's tensors (they are the package's own ShapesEncoder).

    python tools/make_shapes_demo.py [--work DIR]

The demo's report (metrics.json, captions, pictures) stays in DIR (default: a temporary folder, removed); the model
card in the packaged folder carries the demo's beam-3 test scores on its 300 unseen scenes."""
import argparse, shutil, tempfile
from pathlib import Path

from captionlab.model import CaptionModel, packaged_model_path
from captionlab.pipeline import run_demo

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--work', help='where the demo runs and leaves its report (default: a temporary folder)')
    args = ap.parse_args()
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix='shapes-demo-'))
    try:
        out = run_demo(work/'demo', overwrite=True)                 # the default seed, the default everything
        dest = packaged_model_path('shapes-demo')
        shutil.rmtree(dest, ignore_errors=True)
        CaptionModel.from_pretrained(out/'model').save_packaged(dest)
        size = sum(f.stat().st_size for f in dest.iterdir())
        print(f"wrote {dest} ({size / 1e6:.2f} MB): " + ', '.join(sorted(f.name for f in dest.iterdir())))
    finally:
        if not args.work: shutil.rmtree(work, ignore_errors=True)

if __name__ == '__main__': main()
