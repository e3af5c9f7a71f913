"""The GPU path (experiments/gpu_run.sh, TRAINING.md "GPU path"), checked without a GPU: its config, that the model's
code creates no tensor on the wrong device (run on the meta device, which refuses CPU operands as CUDA does), the
evaluation's device adapter, --max-minutes, and the whole script at toy size on the CPU (slow: VGT_SLOW_TESTS=1)."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

torch = pytest.importorskip("torch")

from vgt.config import get_config, param_counts  # noqa: E402
from vgt.queryar import QueryAR, prepare_text_batch, randomize_  # noqa: E402
from vgt.sampler import SampleSettings, sample_latents  # noqa: E402
from vgt.tokenizer import default_tokenizer  # noqa: E402
from vgt.train import ar  # noqa: E402
from vgt.train.evaluate import DeviceFns  # noqa: E402
from vgt.vgtae import VGTAE  # noqa: E402

SLOW = os.environ.get("VGT_SLOW_TESTS") == "1"


def test_shapes8_l_reuses_the_shipped_ae_under_a_larger_generator():
    c, small = get_config("shapes8_l"), get_config("shapes8")
    assert c.ae == small.ae and c.sampling == small.sampling and c.max_grid == small.max_grid
    n = param_counts(c)["generator_total"]
    assert 10e6 <= n <= 20e6
    assert sum(p.numel() for p in QueryAR(c).parameters()) == n


def test_training_and_sampling_code_keeps_tensors_on_the_model_device():
    cfg = get_config("tiny")
    cfg.image_positions = "grid"
    meta = torch.device("meta")
    model = QueryAR(cfg).to(meta)
    tok = default_tokenizer()
    g = torch.Generator().manual_seed(0)
    ids, mask = prepare_text_batch(tok, ["a red circle", "two blue squares"], 0.1, g)
    z = torch.randn(2, cfg.d_z, 8, 8).to(meta)
    loss = model.ar_loss(ids.to(meta), mask.to(meta), z, tok.img_token_ids(), generator=g, diffusion_batch_mul=2,
                         ctx_noise=0.1)
    assert loss.device == meta
    # the sampler's calls: an incremental LM step on a KV cache, the head's condition and velocity (split and fused)
    e = torch.zeros(2, 5, cfg.lm.hidden, device=meta)
    pos = torch.arange(5).expand(2, -1).to(meta)
    h, past = model.lm(e, torch.ones(2, 5, dtype=torch.long, device=meta), pos)
    h, _ = model.lm(e[:, :2], torch.ones(2, 7, dtype=torch.long, device=meta), pos[:, :2] + 5, past)
    c = model.head_cond(h.reshape(4, -1))
    x, t = torch.zeros(4, cfg.d_z, device=meta), torch.zeros(4, device=meta)
    assert model.head_velocity(x, t, c).device == meta and model.head.velocity_fused(x, t, c).device == meta
    ae = VGTAE(cfg.ae).to(meta)
    assert ae.decode(ae.encode(torch.zeros(2, 3, 48, 48, device=meta))).shape == (2, 3, 48, 48)


def test_device_adapter_samples_what_the_plain_sampler_samples():
    cfg = get_config("tiny")
    model = QueryAR(cfg)
    randomize_(model, 3)
    tok = default_tokenizer()
    prompts = ["a red circle", "two blue squares left of a green triangle"]
    for k in (1, 4):
        s = SampleSettings(steps=3, cfg=3.0, tokens_per_step=k)
        plain = sample_latents(model.eval(), tok, prompts, s, seed=5, order_seed=6)
        fns = DeviceFns(model, torch.device("cpu"))
        adapted = sample_latents(model, tok, prompts, s, seed=5, order_seed=6, fns=fns)
        assert torch.equal(plain, adapted)


def test_max_minutes_saves_and_stops(tmp_path):
    cfg = get_config("tiny")
    lat, run = tmp_path / "latents", tmp_path / "ar"
    lat.mkdir()
    z = torch.nn.functional.layer_norm(torch.randn(6, 8, 8, cfg.d_z), (cfg.d_z,)).permute(0, 3, 1, 2)
    torch.save({"z": z.half(), "captions": ["a red circle"] * 6, "categories": ["single"] * 6},
               lat / "shard-00000.pt")
    ar.main(["--config", "tiny", "--latents", str(lat), "--batch", "2", "--steps", "50", "--save-every", "100",
             "--log-every", "100", "--max-minutes", "0", "--out", str(run)])
    assert torch.load(run / "ckpt.pt")["step"] == 1  # saved although step 1 is no save step
    events = [json.loads(line).get("event") for line in open(run / "log.jsonl")]
    assert events[-2:] == ["time budget spent", "done"]


@pytest.mark.skipif(not SLOW, reason="runs every stage of the script on the CPU (minutes); VGT_SLOW_TESTS=1")
def test_gpu_script_toy_run_makes_a_valid_bundle(tmp_path):
    from vgt.bundle import validate_bundle
    run = tmp_path / "gpu"
    env = {**os.environ, "TOY": "1", "GPU_RUNS": str(run), "PY": sys.executable}
    script = os.path.join(ROOT, "experiments", "gpu_run.sh")
    p = subprocess.run(["bash", script], env=env, capture_output=True, text=True, timeout=1200)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    m = validate_bundle(str(run / "bundle"), deep=True)
    assert m["architecture"]["config"] == "shapes8_l" and m["dtype"] == "float16"
    tok = json.load(open(run / "bundle" / "tokenizer.json"))  # the recipe's phrase tokens travel with the bundle
    assert sum(a["normalized"] for a in tok["added_tokens"]) == 36
    res = json.load(open(run / "eval-gen.json"))
    assert {"k1", "k4"} <= set(res) and 0.0 <= res["k1"]["overall"] <= 1.0
    assert "attn_ratio" in json.load(open(run / "eval-probes.json"))["probes"]
    stages = [line.split(":")[0] for line in open(run / "times.txt")]
    assert stages == [f"[gpu_run] {s}" for s in ("rebuild", "encode", "train", "assemble", "export", "eval", "probes")]
    again = subprocess.run(["bash", script], env=env, capture_output=True, text=True, timeout=600)  # resumes: all done
    assert again.returncode == 0 and again.stdout.count("done before, skipped") == 7, again.stdout[-2000:]
