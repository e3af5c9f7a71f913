"""Full-size official checkpoints: every key name and shape of InternVL3-1.6B and Qwen2.5-VL (18 and 36 layers)
converts, on the meta device (no memory). The peak-memory measurement on a real full-size file is opt-in:

  VGT_CONVERT_FULLSIZE=1 nice -n 19 /usr/bin/python3 -m pytest -q -s tests/test_vgt_convert_fullsize.py

It streams a synthetic mmengine checkpoint of internvl3_1_6b (random fp32 values, 10.5 GiB, with the training-only
parts) and a 2.9 GiB AE file under checkpoints/ (git-ignored), runs the converter CLI on them, asserts its peak RSS
is under 12 GiB and deletes the files. It needs ~23 GB of free disk and ~9 GiB of free memory (measured: writer
1.19 GiB, converter 8.38 GiB on torch 1.13).
"""
import dataclasses
import io
import os
import pickle
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections import OrderedDict

import pytest
import torch

from test_vgt_convert import official, quiet
from test_vgt_convert_loading import fake_mmengine
from vgt import ckpt_io
from vgt import convert_official as C
from vgt.config import get_config
from vgt.queryar import VGT

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def dinov3_vitb16():
    """The REPA teacher (timm DINOv3 ViT-B/16, ~86 M parameters) under the official model's attribute name."""
    d, shapes = 768, {"cls_token": (1, 1, 768), "reg_token": (1, 4, 768), "patch_embed.proj.weight": (768, 3, 16, 16),
                      "patch_embed.proj.bias": (768,), "norm.weight": (768,), "norm.bias": (768,)}
    for i in range(12):
        for n, s in (("norm1.weight", (d,)), ("norm1.bias", (d,)), ("attn.qkv.weight", (3 * d, d)), ("attn.qkv.bias", (3 * d,)),
                     ("attn.proj.weight", (d, d)), ("attn.proj.bias", (d,)), ("gamma_1", (d,)), ("norm2.weight", (d,)),
                     ("norm2.bias", (d,)), ("mlp.fc1.weight", (4 * d, d)), ("mlp.fc1.bias", (4 * d,)),
                     ("mlp.fc2.weight", (d, 4 * d)), ("mlp.fc2.bias", (d,)), ("gamma_2", (d,))):
            shapes[f"blocks.{i}.{n}"] = s
    return {"dinov3_extractor.model." + k: s for k, s in shapes.items()}


def official_shapes(cfg, variant="internvl"):
    """Official key -> shape of a full-size REPA-trained checkpoint (names as the official modules give them)."""
    with C.meta_params():
        sd = official(VGT(cfg), variant)
    out = OrderedDict((k, tuple(v.shape)) for k, v in sd.items())
    if variant == "internvl":
        out["lmm.language_model.lm_head.weight"] = (cfg.lm.vocab_size, cfg.lm.hidden)
        for k, s in sd.items():  # the self-distillation teacher: frozen copies of the ViT and mlp1
            if k.startswith(("vgt_ae.encoder.", "vgt_ae.mlp1.")):
                out[k.replace("vgt_ae.encoder.", "vgt_ae.teacher.").replace("vgt_ae.mlp1.", "vgt_ae.teacher_mlp1.")] = tuple(s.shape)
    else:
        out["lmm.lm_head.weight"] = (cfg.lm.vocab_size, cfg.lm.hidden)
    w = cfg.head.width
    for i, (o, n) in enumerate(((2048, w), (2048, 2048), (768, 2048))):
        out[f"image_head.net.repa_projector.{2 * i}.weight"], out[f"image_head.net.repa_projector.{2 * i}.bias"] = (o, n), (o,)
    out.update(dinov3_vitb16())
    return out


@pytest.mark.parametrize("name,variant,layers", [("internvl3_1_6b", "internvl", 28), ("internvl3_0_6b", "internvl", 24),
                                                 ("qwen25vl_1_6b", "qwen_old", 18), ("qwen25vl_1_6b", "qwen", 36)])
def test_full_size_official_keys_and_shapes(name, variant, layers):
    cfg = get_config(name)
    src = dataclasses.replace(cfg, lm=dataclasses.replace(cfg.lm, layers=layers))
    shapes = official_shapes(src, variant)
    if variant == "qwen":  # values cannot be compared on meta: keep one copy of the re-registered LM
        shapes = OrderedDict((k, s) for k, s in shapes.items() if not k.startswith("lmm.language_model."))
    logs = []
    model, report = C.convert_state(cfg, OrderedDict((k, torch.empty(s, device="meta")) for k, s in shapes.items()),
                                    log=logs.append)
    assert model.c.lm.layers == layers and len(report["mapped"]) == len(model.state_dict())
    assert model.c.name == (name if layers == cfg.lm.layers else "qwen25vl_2b")  # the named 36-layer config
    assert model.c.pad_mask == "prefill"
    dropped = {why for _, why in report["dropped"]}
    assert "REPA teacher DINOv3 (training only)" in dropped and "REPA projector (training only)" in dropped
    if name == "internvl3_1_6b":  # the fidelity review's full-size count: 1018 mapped, lm_head 1, teacher 346, REPA 6
        assert len(report["mapped"]) == 1018 and len(report["dropped"]) == 353 + len(dinov3_vitb16())


class _Storage:
    """A storage of the file being written: pickled as torch's persistent id, its bytes written separately."""

    def __init__(self, key, dtype, numel):
        self.key, self.dtype, self.numel = key, dtype, numel


class _TensorRef:
    def __init__(self, storage, shape):
        self.storage, self.shape = storage, tuple(shape)

    def __reduce__(self):
        stride = tuple(int(torch.tensor(self.shape[i + 1:]).prod()) for i in range(len(self.shape)))
        return torch._utils._rebuild_tensor_v2, (self.storage, 0, self.shape, stride, False, OrderedDict())


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            kind = {torch.float32: "FloatStorage", torch.int64: "LongStorage"}[obj.dtype]
            return "storage", getattr(torch, kind), obj.key, "cpu", obj.numel
        return None


def pickled(obj) -> bytes:
    buf = io.BytesIO()
    _Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def save_streamed(path, data_pkl: bytes, tensors):
    """torch.save's zip format, written one tensor at a time: `data_pkl` (from `pickled`) refers to storages and
    `tensors()` yields (key, tensor) for each, so that a checkpoint larger than memory can be written."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr("archive/data.pkl", data_pkl)
        for key, t in tensors():
            with zf.open(f"archive/data/{key}", "w", force_zip64=True) as f:
                f.write(t.contiguous().numpy().data)
        zf.writestr("archive/version", "3\n")


def synthetic_checkpoint(shapes, seed=0, ae_prefix="model."):
    """(main checkpoint, AE file, tensor source), the files as pickles: an mmengine checkpoint (message_hub with a
    HistoryBuffer) whose state_dict and ema_state_dict (module.) share their storages, and the separate AE file
    with `ae_prefix`; random fp32 values, made when written."""
    refs = OrderedDict((k, _TensorRef(_Storage(str(i), torch.float32, int(torch.tensor(s).prod())), s))
                       for i, (k, s) in enumerate(shapes.items()))
    steps = _TensorRef(_Storage("steps", torch.int64, 1), ())  # EMA's step counter buffer
    with fake_mmengine() as mm:
        hb = mm["mmengine.logging.history_buffer"].HistoryBuffer
        main = pickled({"meta": {"cfg": "model = dict(repa_loss_weight=0.5)\n", "iter": 5000}, "state_dict": refs,
                        "message_hub": {"log_scalars": {"train/loss": hb()}},
                        "ema_state_dict": OrderedDict([("steps", steps)] + [("module." + k, r) for k, r in refs.items()])})
    ae = pickled({"state_dict": OrderedDict((ae_prefix + k[len("vgt_ae."):], r) for k, r in refs.items()
                                            if k.startswith("vgt_ae."))})

    def tensors(only=None):
        if only is None:
            yield "steps", torch.tensor(5000)
        g = torch.Generator().manual_seed(seed)
        for k, r in refs.items():
            t = torch.randn(r.shape, generator=g)  # drawn for every tensor, so that both files get the same values
            if only is None or k.startswith(only):
                yield r.storage.key, t

    return main, ae, tensors


def write_synthetic(d):
    """The synthetic full-size files, streamed (the writer holds about one tensor)."""
    from vgt.tokenizer import default_tokenizer
    os.makedirs(d, exist_ok=True)
    main, ae, tensors = synthetic_checkpoint(official_shapes(get_config("internvl3_1_6b")))
    save_streamed(os.path.join(d, "iter_5000.pth"), main, tensors)
    save_streamed(os.path.join(d, "vgt_ae_internvl3.pth"), ae, lambda: tensors("vgt_ae."))
    default_tokenizer().save(os.path.join(d, "tokenizer.json"))
    print(f"wrote the synthetic files; writer peak RSS {ckpt_io.peak_rss_gib():.2f} GiB")


def test_streamed_writer_gives_files_torch_reads(tmp_path):
    shapes = OrderedDict([("lmm.language_model.model.norm.weight", (8,)), ("vgt_ae.decoder.conv_in.weight", (4, 3, 3, 3)),
                          ("image_head.net.input_proj.weight", (5, 7))])
    main, ae, tensors = synthetic_checkpoint(shapes, seed=3, ae_prefix="first_stage.")
    save_streamed(tmp_path / "m.pth", main, tensors)
    save_streamed(tmp_path / "a.pth", ae, lambda: tensors("vgt_ae."))
    want = OrderedDict((k, t) for k, (_, t) in zip(shapes, list(tensors())[1:]))
    m = ckpt_io.load(str(tmp_path / "m.pth"), quiet, lazy=False)  # torch's own reader (stub unpickler: mmengine)
    assert type(m["message_hub"]["log_scalars"]["train/loss"]).__name__ == "HistoryBuffer"
    assert list(m["ema_state_dict"]) == ["steps"] + ["module." + k for k in shapes]
    assert m["ema_state_dict"]["steps"].dtype == torch.int64 and m["ema_state_dict"]["steps"].item() == 5000
    for k, t in want.items():
        assert torch.equal(m["state_dict"][k], t) and torch.equal(m["ema_state_dict"]["module." + k], t)
    a = torch.load(tmp_path / "a.pth")["state_dict"]
    assert list(a) == ["first_stage.decoder.conv_in.weight"]
    assert torch.equal(a["first_stage.decoder.conv_in.weight"], want["vgt_ae.decoder.conv_in.weight"])
    sd, where = C.load_state(str(tmp_path / "m.pth"), log=quiet)  # and the converter's lazy reader
    assert where == "ema_state_dict" and all(torch.equal(ckpt_io.materialize(sd[k]), t) for k, t in want.items())
    k = "image_head.net.input_proj.weight"  # shared storage, as torch.save writes two dicts of the same tensors
    assert m["state_dict"][k].data_ptr() == m["ema_state_dict"]["module." + k].data_ptr()


@pytest.mark.skipif(os.environ.get("VGT_CONVERT_FULLSIZE") != "1", reason="opt-in: VGT_CONVERT_FULLSIZE=1 (10.5 GiB file)")
def test_full_size_conversion_peak_memory():
    d = os.path.join(ROOT, "checkpoints", "fullsize-synthetic")
    try:
        t0 = time.time()
        subprocess.run([sys.executable, "-c", f"import test_vgt_convert_fullsize as t; t.write_synthetic({d!r})"],
                       cwd=os.path.join(ROOT, "tests"), env={**os.environ, "PYTHONPATH": ROOT}, check=True)
        t1 = time.time()
        cmd = [sys.executable, "-m", "vgt.convert_official", "--config", "internvl3_1_6b",
               "--checkpoint", os.path.join(d, "iter_5000.pth"), "--ae", os.path.join(d, "vgt_ae_internvl3.pth"),
               "--tokenizer", os.path.join(d, "tokenizer.json"), "--out", os.path.join(d, "vgt_internvl3_1_6b.pt")]
        r = subprocess.run(["nice", "-n", "19"] + cmd, cwd=ROOT, capture_output=True, text=True)
        print(r.stdout, r.stderr)
        assert r.returncode == 0
        peak = float(re.search(r"wrote .* \(peak RSS ([\d.]+) GiB\)", r.stdout).group(1))
        print(f"file {os.path.getsize(os.path.join(d, 'iter_5000.pth')) / 2**30:.2f} GiB (written in {t1 - t0:.0f} s), "
              f"converter peak RSS {peak:.2f} GiB, {time.time() - t1:.0f} s")
        assert peak < 12 and "mapped 1018 tensors" in r.stdout and "REPA teacher DINOv3" in r.stdout
        assert "--ae: key prefix 'model.' (detected)" in r.stdout and "WARNING" not in r.stdout
    finally:
        shutil.rmtree(d, ignore_errors=True)
