#!/usr/bin/env bash
# A trained generator as a shippable candidate, measured as the model card reports it: assembled with the shipped
# VGT-AE (from the bundle), exported as a bundle (float16, the shipped sampling defaults), then ShapesEval on the 90
# validation prompts x 6 seeds (Python sampler, k = 1 and 4) and through the engine on the 312-prompt eval set (k = 1
# and 4, a throwaway library). Results in runs/ARM/: eval-val6.json, engine-k1.json, engine-k4.json.
#
#   cd native-models && ARM=ow-par bash experiments/candidate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
ARM=${ARM:?name the run, e.g. ARM=ow-par}
CFG=${CFG:-4.5}
RUN=runs/$ARM
# the bundle records this file's name as its provenance, so it names the run
CKPT=$RUN/vgt-shapes-$ARM.pt
export OPENBLAS_NUM_THREADS=1
[ -f "$CKPT" ] || $PY -m vgt.train.assemble --ae bundles/vgt-shapes --ar "$RUN/ckpt.pt" --out "$CKPT"
[ -f "$RUN/bundle/vgt-bundle.json" ] || $PY -m vgt.export --checkpoint "$CKPT" --out "$RUN/bundle" \
  --dtype float16 --id "vgt-shapes-$ARM" --name "Shapes World ($ARM)" --order random --cfg "$CFG" \
  --tokens-per-step 1 --edit-context all
[ -f "$RUN/eval-val6.json" ] || $PY -m vgt.train.evaluate gen --ar "$RUN/ckpt.pt" --ae bundles/vgt-shapes --k 1 4 \
  --prompts data/shapes-val-prompts.jsonl --seeds 6 --order random --cfg "$CFG" --out "$RUN/eval-val6.json"
export VGT_STUDIO_HOME=$PWD/$RUN/studio-home
# once: a second import of the same id is refused (the run stays resumable)
[ -f "$VGT_STUDIO_HOME/.imported" ] || { npx vgt models import "$RUN/bundle" > /dev/null && touch "$VGT_STUDIO_HOME/.imported"; }
for k in 1 4; do
  [ -s "$RUN/engine-k$k.json" ] || npx vgt eval shapes --model "vgt-shapes-$ARM" --tokens-per-step $k --json \
    > "$RUN/engine-k$k.json"
done
