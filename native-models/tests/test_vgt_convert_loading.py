"""Loading official checkpoint files: mmengine checkpoints without mmengine (stub unpickler), torch.load's
signatures (weights_only, mmap) across versions, the lazy reader of torch<2.1, and nothing in a file runs."""
import contextlib
import inspect
import os
import pickle
import sys
import types
from collections import OrderedDict

import numpy as np
import pytest
import torch

from test_vgt_convert import assert_same_weights, config, official, quiet, split_ae, with_training_parts
from vgt import ckpt_io
from vgt import convert_official as C
from vgt.queryar import VGT, randomize_

MMENGINE = ("mmengine", "mmengine.logging", "mmengine.logging.history_buffer", "mmengine.config", "mmengine.config.config")


@contextlib.contextmanager
def fake_mmengine():
    """A module named mmengine, only to pickle its objects; gone afterwards, so loading must do without it."""
    mods = {n: types.ModuleType(n) for n in MMENGINE}

    class HistoryBuffer:  # what mmengine's MessageHub keeps per logged scalar
        def __init__(self):
            self.max_length = 1000000
            self._log_history = np.array([0.5, 0.25])
            self._count_history = np.array([1, 1])

    class ConfigDict(dict):
        pass

    for cls, mod in ((HistoryBuffer, "mmengine.logging.history_buffer"), (ConfigDict, "mmengine.config.config")):
        cls.__module__, cls.__qualname__ = mod, cls.__name__
        setattr(mods[mod], cls.__name__, cls)
    saved = {n: sys.modules.get(n) for n in MMENGINE}
    sys.modules.update(mods)
    try:
        yield mods
    finally:
        for n, m in saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m


def save_mmengine(path, ema, raw, legacy=False):
    """An mmengine CheckpointHook file: meta (config text), state_dict, message_hub, optimizer, param_schedulers
    and EMAHook's ema_state_dict (keys under module., plus its step counter)."""
    with fake_mmengine() as mm:
        hb = mm["mmengine.logging.history_buffer"].HistoryBuffer
        cd = mm["mmengine.config.config"].ConfigDict
        first = next(iter(raw.values()))
        ck = {
            "meta": {"cfg": "model = dict(type='VGT_InternVL3', repa_loss_weight=0.5)\n", "seed": 42, "iter": 5000,
                     "mmengine_version": "0.10.7", "dataset_meta": cd(classes=("image",))},
            "state_dict": raw,
            "message_hub": {"log_scalars": {"train/loss": hb(), "train/lr": hb()},
                            "runtime_info": {"iter": 5000, "lr": np.float64(1e-4)}, "resumed_keys": {"iter": True}},
            "optimizer": {"state": {0: {"step": torch.tensor(5000.0), "exp_avg": torch.randn(first.shape),
                                        "exp_avg_sq": torch.rand(first.shape)}},
                          "param_groups": [{"lr": 1e-4, "betas": (0.9, 0.95), "weight_decay": 0.05, "params": [0]}]},
            "param_schedulers": [{"base_lrs": [1e-4], "last_step": 5000}],
            "ema_state_dict": OrderedDict([("steps", torch.tensor(5000))] + [("module." + k, v) for k, v in ema.items()]),
        }
        torch.save(ck, path, _use_new_zipfile_serialization=not legacy)
    assert "mmengine" not in sys.modules
    return str(path)


@pytest.fixture(scope="module")
def models():
    ema, raw = VGT(config()), VGT(config())
    randomize_(ema, 11)
    randomize_(raw, 12)
    return ema.eval(), raw.eval()


@pytest.fixture()
def mmengine_file(models, tmp_path):
    ema, raw = models
    return save_mmengine(tmp_path / "iter_5000.pth", with_training_parts(official(ema)), official(raw))


def test_mmengine_checkpoint_without_mmengine_reads_only_the_chosen_weights(models, mmengine_file, monkeypatch):
    ema, raw = models
    read = []
    real = ckpt_io.LazyTensor.materialize
    monkeypatch.setattr(ckpt_io.LazyTensor, "materialize", lambda self: read.append(self) or real(self))
    logs = []
    model, report = C.convert(config(), mmengine_file, log=logs.append)
    assert_same_weights(model, ema)  # ema_state_dict is the default, as in the reference
    assert len(read) == len(ema.state_dict())  # optimizer, state_dict and training-only parts never read
    text = "\n".join(logs)
    assert "read lazily" in text and "using ema_state_dict as the reference does" in text
    assert "classes not resolved, kept as stubs (only tensors are used): mmengine.config.config.ConfigDict, " \
           "mmengine.logging.history_buffer.HistoryBuffer" in text
    assert "peak RSS" in logs[-1]
    model, _ = C.convert(config(), mmengine_file, log=quiet, weights="state_dict")
    assert_same_weights(model, raw)


def test_mmengine_checkpoint_through_torch_load(models, mmengine_file):
    """torch.load (as on torch>=2.1, where it memory-maps): weights_only=True refuses mmengine's classes first."""
    logs = []
    ck = ckpt_io.load(mmengine_file, log=logs.append, lazy=False)
    assert "weights_only=True refused it (mmengine." in logs[0] and logs[1].endswith("torch.load, stub unpickler")
    hb = ck["message_hub"]["log_scalars"]["train/loss"]
    assert type(hb).__module__ == "stub.mmengine.logging.history_buffer" and isinstance(hb, ckpt_io.Stub)
    assert hb.state["_log_history"].tolist() == [0.5, 0.25]  # numpy arrays are allowed, and rebuilt
    assert ck["meta"]["dataset_meta"] == {"classes": ("image",)} and ck["meta"]["iter"] == 5000
    assert torch.equal(ck["ema_state_dict"]["module.image_in_projector.weight"], models[0].generator.image_in_projector.weight)


def test_torch_2_6_weights_only_default_falls_back_to_the_stub_unpickler(models, mmengine_file, monkeypatch):
    """Simulates torch>=2.6 (weights_only=True by default, mmap available) on this torch: the first try raises
    the UnpicklingError that mmengine objects cause, the converter then loads with weights_only=False and its
    own unpickler, memory-mapped."""
    real, calls = torch.load, []

    def load_2_6(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **kw):
        calls.append({"weights_only": weights_only, "mmap": mmap, "stub": pickle_module is not None})
        if weights_only is None or weights_only:  # the 2.6 default; torch's safe unpickler really raises here
            return real(f, map_location=map_location, weights_only=True)
        return real(f, map_location=map_location, pickle_module=pickle_module, weights_only=False, **kw)

    monkeypatch.setattr(torch, "load", load_2_6)
    logs = []
    model, _ = C.convert(config(), mmengine_file, log=logs.append)
    assert_same_weights(model, models[0])
    assert calls == [{"weights_only": True, "mmap": True, "stub": False}, {"weights_only": False, "mmap": True, "stub": True}]
    assert any("weights_only=True refused it (mmengine.config.config.ConfigDict)" in l for l in logs)
    assert any(l.endswith("torch.load, mmap, stub unpickler") for l in logs)


def test_torch_load_without_weights_only_argument(models, tmp_path, monkeypatch):
    """torch before 1.13 has no weights_only: the converter must not pass it."""
    ema, raw = models
    path = save_mmengine(tmp_path / "legacy.pth", official(ema), official(raw), legacy=True)  # old format: no zip
    real, calls = torch.load, []

    def load_old(f, map_location=None, pickle_module=None, **pickle_load_args):
        calls.append(sorted(pickle_load_args))
        return real(f, map_location=map_location, pickle_module=pickle_module, **pickle_load_args)

    monkeypatch.setattr(torch, "load", load_old)
    assert "weights_only" not in inspect.signature(torch.load).parameters
    model, _ = C.convert(config(), path, log=quiet)
    assert_same_weights(model, ema)
    assert calls == [[]]


def test_legacy_format_file_on_this_torch(models, tmp_path):
    ema, raw = models
    path = save_mmengine(tmp_path / "legacy.pth", official(ema), official(raw), legacy=True)
    logs = []
    model, _ = C.convert(config(), path, log=logs.append)
    assert_same_weights(model, ema)
    assert any(l.endswith(": torch.load, stub unpickler") for l in logs)


class Exploit:
    def __reduce__(self):
        return os.system, ("touch pwned",)


def test_nothing_in_the_file_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for legacy in (False, True):
        torch.save({"state_dict": {"w": torch.ones(2)}, "meta": Exploit()}, "x.pth",
                   _use_new_zipfile_serialization=not legacy)
        for lazy in (None, False):
            logs = []
            sd, where = C.load_state("x.pth", log=logs.append) if lazy is None else (ckpt_io.load("x.pth", logs.append, lazy), "")
            assert not (tmp_path / "pwned").exists()
            assert any("kept as stubs" in l and f"{os.system.__module__}.system" in l for l in logs), logs
    with pytest.raises(C.ConversionError, match=r"entries that are not tensors: w \(system\)"):
        torch.save({"model": {"w": Exploit()}}, "y.pth")
        C.load_state("y.pth", log=quiet)


def test_lazy_tensors_views_dtypes_and_shared_storage(tmp_path):
    base = torch.randn(6, 5)
    sd = {"view": base[2:], "t": base.t(), "bf16": torch.randn(3, 4).to(torch.bfloat16), "half": base.half()[1],
          "int": torch.arange(7), "empty": torch.zeros(0, 3), "scalar": torch.tensor(2.5)}
    torch.save(sd, tmp_path / "v.pth")
    got = ckpt_io.load(str(tmp_path / "v.pth"), log=quiet, lazy=True)
    assert all(isinstance(v, ckpt_io.LazyTensor) for v in got.values())
    for k, v in sd.items():
        t = ckpt_io.materialize(got[k])
        assert got[k].shape == v.shape and got[k].dtype == v.dtype and t.dtype == v.dtype and torch.equal(t, v), k


def test_ema_without_state_dict_choice_is_refused_clearly(models, tmp_path):
    torch.save({"meta": {"iter": 1}, "state_dict": official(models[0])}, tmp_path / "c.pth")
    with pytest.raises(C.ConversionError, match=r"no state dict under ema_state_dict; its entries: meta, state_dict\n"
                                                r"    fix: --weights NAME"):
        C.load_state(str(tmp_path / "c.pth"), weights="ema_state_dict", log=quiet)


def test_mmengine_checkpoint_without_ae_plus_prefixed_ae_file(models, tmp_path):
    """The released pair: a generator checkpoint without vgt_ae.* and the separate AE file under a prefix."""
    ema, raw = models
    gen, ae = split_ae(with_training_parts(official(ema)), "model.")
    main = save_mmengine(tmp_path / "iter_5000.pth", gen, official(raw))
    torch.save({"state_dict": ae, "meta": {"epoch": 1}}, tmp_path / "vgt_ae_internvl3.pth")
    logs = []
    model, report = C.convert(config(), main, str(tmp_path / "vgt_ae_internvl3.pth"), log=logs.append)
    assert_same_weights(model, ema)
    assert report["ae"]["prefix"] == "model." and report["ae"]["own"] == 0
    assert "--ae: key prefix 'model.' (detected)" in logs
