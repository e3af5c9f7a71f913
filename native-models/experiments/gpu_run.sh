#!/usr/bin/env bash
# The GPU path (issue 15, item 7; TRAINING.md, "GPU path"): the current recipe at a larger scale, unattended, in one
# run of under 9 minutes on one CUDA GPU (sized for an H200). Nothing depends on it: run it whenever a GPU is at hand.
#
#   rebuild  the PyTorch VGT (AE included) from bundles/vgt-shapes     -> $RUN/rebuilt.pt
#   encode   N_SCENES distractor-free scenes (CPU render workers, AE on the GPU) -> $RUN/latents
#   train    QueryAR --config shapes8_l --positions grid + the shipped recipe's coarse order, noisy context and
#            partial-parallel layout, with phrase tokens (AR_RECIPE), bf16, ~1.5 M sequences, stopped by the time
#            budget -> $RUN/ar
#   assemble the rebuilt AE + the new generator                        -> $RUN/vgt-gpu.pt
#   export   a float16 bundle, then validated (vgt.bundle --deep)      -> $RUN/bundle
#   eval     ShapesEval of generations at k = 1, 4 on the eval prompts  -> $RUN/eval-gen.json
#   probes   the geometry probes (CPU)                                  -> $RUN/eval-probes.json
#
#   cd native-models && bash experiments/gpu_run.sh 2>&1 | tee runs/gpu.log
#   TOY=1 bash experiments/gpu_run.sh      # the same stages at toy size on the CPU (tests/test_gpu_script.py)
#
# Resumable: a finished stage is skipped; an interrupted one continues (training from its checkpoint, with the budget
# of the new invocation). Sizes are environment variables (below); GPU_RUNS moves the run folder.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PY:-}" ]; then  # the first Python that has torch (/usr/bin/python3 here, the image's python3 elsewhere)
  for c in /usr/bin/python3 python3; do
    if "$c" -c "import torch" 2>/dev/null; then PY=$c; break; fi
  done
fi
: "${PY:?no Python with torch found; set PY}"
TOY=${TOY:-0}
NCPU=$(nproc)
if [ "$TOY" = 1 ]; then  # every stage, a few seconds each on the CPU
  DEFAULTS=(DEVICE=cpu N_SCENES=48 SHARD=24 WORKERS=2 ENC_BATCH=12 AR_BATCH=4 AR_SEQS=12 AR_WARMUP=1
            SAVE_EVERY=2 LOG_EVERY=1 BF16=1 AR_THREADS=1 EVAL_LIMIT=2 EVAL_STEPS=2 EVAL_BATCH=2 EVAL_DEVICE=cpu
            PROBE_N=16 BUDGET_MIN=20 TAIL_MIN=5)
else  # one H200: see TRAINING.md for the time estimate behind these
  DEFAULTS=(DEVICE=cuda N_SCENES=200000 SHARD=2000 WORKERS=$((NCPU > 3 ? NCPU - 2 : 1)) ENC_BATCH=500
            AR_BATCH=512 AR_SEQS=1500000 AR_WARMUP=100 SAVE_EVERY=500 LOG_EVERY=50 BF16=1 AR_THREADS=4
            EVAL_LIMIT=0 EVAL_STEPS=20 EVAL_BATCH=312 EVAL_DEVICE=cuda PROBE_N=1024 BUDGET_MIN=8.5 TAIL_MIN=2.5)
fi
for kv in "${DEFAULTS[@]}"; do  # an environment variable of the same name wins
  k=${kv%%=*}
  [ -n "${!k:-}" ] || printf -v "$k" '%s' "${kv#*=}"
done
CONFIG=${CONFIG:-shapes8_l}
BUNDLE=${BUNDLE:-bundles/vgt-shapes}
RUN=${GPU_RUNS:-runs/gpu}
SEED=${SEED:-3}
AR_LR=${AR_LR:-1e-3}
AR_EMA=${AR_EMA:-0.998}
# the shipped generator's recipe (TRAINING.md, "Experiments"), less its object weight (that needs a probe set first),
# plus phrase tokens: the one change that moved the binding probe on the CPU (TRAINING.md, "Binding")
AR_RECIPE=${AR_RECIPE:---order coarse --ctx-noise 0.3 --parallel-p 0.5 --phrase-tokens}
AR_EXTRA=${AR_EXTRA:-}          # more vgt.train.ar flags, e.g. "--time-shift 1.0"
PROBES=${PROBES:-1}
AR_STEPS=$(( (AR_SEQS + AR_BATCH - 1) / AR_BATCH ))
mkdir -p "$RUN"
T0=$(date +%s.%N)
export OPENBLAS_NUM_THREADS=1 PYTHONUNBUFFERED=1

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
stage() {  # stage NAME DONE_FILE CMD...: run CMD unless DONE_FILE exists; one time line per stage
  local name=$1 done=$2 t
  shift 2
  if [ -e "$done" ]; then echo "[gpu_run] $name: done before, skipped"; return; fi
  t=$(now)
  echo "[gpu_run] $name: start ($(secs "$T0" "$t") s into the run)"
  "$@"
  echo "[gpu_run] $name: $(secs "$t" "$(now)") s (total $(secs "$T0" "$(now)") s)" | tee -a "$RUN/times.txt"
}

read -r TORCH CUDA < <($PY -c "import torch; print(torch.__version__, int(torch.cuda.is_available()))")
for d in "$DEVICE" "$EVAL_DEVICE"; do
  [ "$d" = cpu ] || [ "$CUDA" = 1 ] || { echo "[gpu_run] $d is not available (TOY=1 runs the CPU toy)" >&2; exit 2; }
done
echo "[gpu_run] $CONFIG on $DEVICE: $N_SCENES scenes, $AR_STEPS steps x $AR_BATCH sequences, budget $BUDGET_MIN min," \
     "out $RUN (torch $TORCH)"

encode() {
  local pids=() i
  for ((i = 0; i < WORKERS; i++)); do
    $PY -m vgt.train.encode_latents --ae "$RUN/rebuilt.pt" --out "$RUN/latents" --n "$N_SCENES" --shard "$SHARD" \
      --batch "$ENC_BATCH" --distractor-p 0 --seed "$SEED" --device "$DEVICE" --worker "$i" --workers "$WORKERS" \
      > "$RUN/encode-$i.log" 2>&1 &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i"; done
  local want=$(( (N_SCENES + SHARD - 1) / SHARD )) got
  got=$(find "$RUN/latents" -name 'shard-*.pt' | wc -l)
  [ "$got" = "$want" ] || { echo "[gpu_run] encode: $got of $want shards" >&2; exit 1; }
  touch "$RUN/latents/.done"
}

train() {  # what is left of the budget after the tail's reserve, at least one minute
  local minutes
  minutes=$(awk -v b="$BUDGET_MIN" -v t="$TAIL_MIN" -v s="$(secs "$T0" "$(now)")" \
    'BEGIN { m = b - t - s / 60; printf "%.2f", (m < 1 ? 1 : m) }')
  echo "[gpu_run] train: --max-minutes $minutes"
  # shellcheck disable=SC2086  # AR_RECIPE and AR_EXTRA are lists of flags
  $PY -m vgt.train.ar --config "$CONFIG" --latents "$RUN/latents" --steps "$AR_STEPS" --batch "$AR_BATCH" \
    --lr "$AR_LR" --warmup "$AR_WARMUP" --ema "$AR_EMA" --diffusion-batch-mul 4 --positions grid \
    --device "$DEVICE" $([ "$BF16" = 1 ] && echo --bf16) --threads "$AR_THREADS" --seed "$SEED" \
    --save-every "$SAVE_EVERY" --log-every "$LOG_EVERY" --max-minutes "$minutes" $AR_RECIPE $AR_EXTRA \
    --out "$RUN/ar"
  grep -q '"event": "done"' "$RUN/ar/log.jsonl"
  touch "$RUN/ar/.done"
}

assemble() {  # vgt.train.assemble reads an AE stage checkpoint: the rebuilt VGT-AE under this config's AE config
  $PY - "$RUN/rebuilt.pt" "$CONFIG" "$RUN/ae.pt" <<'EOF'
import sys
import torch
from vgt.config import get_config
from vgt.train.encode_latents import load_ae
from vgt.vgtae import VGTAE
ae, _ = load_ae(sys.argv[1])
cfg = get_config(sys.argv[2])
VGTAE(cfg.ae).load_state_dict(ae.state_dict())  # strict: the config's AE has the rebuilt AE's shapes
torch.save({"step": 0, "modules": {"ae": ae.state_dict()}, "ema": None, "config": cfg.to_dict()}, sys.argv[3])
EOF
  $PY -m vgt.train.assemble --ae "$RUN/ae.pt" --ar "$RUN/ar/ckpt.pt" --out "$RUN/vgt-gpu.pt.tmp"
  mv "$RUN/vgt-gpu.pt.tmp" "$RUN/vgt-gpu.pt"  # complete or absent, so a kill never leaves this stage "done"
}

export_bundle() {  # ONNX Runtime parity needs node + onnxruntime-node; without them the bundle is only validated
  local check=()
  $PY -c "from vgt.ortnode import ort_unavailable_reason as r; import sys; sys.exit(1 if r() else 0)" ||
    { check=(--no-check); echo "[gpu_run] export: no onnxruntime-node here, ORT parity skipped"; }
  $PY -m vgt.export --checkpoint "$RUN/vgt-gpu.pt" --out "$RUN/bundle" --dtype float16 --name "Shapes World (GPU)" \
    --id vgt-shapes-gpu --order random --cfg 4.5 "${check[@]}"  # trained coarse-first, sampled in random order
  $PY -m vgt.bundle "$RUN/bundle" --deep
  touch "$RUN/bundle/.done"
}

gen_eval() {
  local limit=()
  [ "$EVAL_LIMIT" = 0 ] || limit=(--limit "$EVAL_LIMIT")
  $PY -m vgt.train.evaluate gen --ar "$RUN/ar/ckpt.pt" --ae "$RUN/rebuilt.pt" --k 1 4 --steps "$EVAL_STEPS" \
    --order random --cfg 4.5 --batch "$EVAL_BATCH" --device "$EVAL_DEVICE" --threads "$NCPU" "${limit[@]}" \
    --out "$RUN/eval-gen.json" |
    grep -v '^ \|^[{}]$' || true  # the JSON is in the file; keep the log to time lines
  [ -s "$RUN/eval-gen.json" ]
}

probes() {
  $PY -m vgt.train.probes build --ae "$RUN/rebuilt.pt" --n "$PROBE_N" --out "$RUN/probe-set.pt"
  $PY -m vgt.train.evaluate context --ar "$RUN/ar/ckpt.pt" --probe-set "$RUN/probe-set.pt" --threads "$NCPU" \
    --out "$RUN/eval-probes.json" > /dev/null
}

stage rebuild "$RUN/rebuilt.pt" $PY -m vgt.bundle "$BUNDLE" --rebuild "$RUN/rebuilt.pt"
stage encode "$RUN/latents/.done" encode
stage train "$RUN/ar/.done" train
stage assemble "$RUN/vgt-gpu.pt" assemble
stage export "$RUN/bundle/.done" export_bundle
stage eval "$RUN/eval-gen.json" gen_eval
if [ "$PROBES" = 1 ]; then stage probes "$RUN/eval-probes.json" probes; fi
$PY - "$RUN" <<'EOF'
import json, os, sys
run = sys.argv[1]
res = json.load(open(os.path.join(run, "eval-gen.json")))
print("[gpu_run] ShapesEval " + ", ".join(f"{k}: {v['overall']:.3f} (seen {v['seen']}, held out {v['heldOut']})"
                                          for k, v in res.items() if k.startswith("k")))
p = os.path.join(run, "eval-probes.json")
if os.path.exists(p):
    pr = json.load(open(p)).get("probes", {})
    print("[gpu_run] probes " + ", ".join(f"{k}: {v}" for k, v in pr.items() if not isinstance(v, (list, dict))))
EOF
echo "[gpu_run] all stages: $(secs "$T0" "$(now)") s; bundle in $RUN/bundle"
