"""Reading other codebases' PyTorch checkpoints (mmengine .pth) without their packages, in bounded memory.

An mmengine checkpoint pickles more than weights: `message_hub` holds mmengine `HistoryBuffer` objects, `meta`
the config, `optimizer` the AdamW moments (a file of 20 GB or more). Plain `torch.load` then fails twice:
torch>=2.6's default `weights_only=True` rejects the mmengine classes, and `weights_only=False` needs mmengine
installed (and would run whatever the pickle names). So:

- the unpickler resolves only an allowlist of harmless globals (torch's tensor rebuilders, dtypes, OrderedDict,
  numpy arrays) and turns every other class into a stub that just keeps its pickled state: nothing in the file
  runs, mmengine installed or not, and the stubbed names are reported;
- torch>=2.1 memory-maps the file (`mmap=True`); older torch has no mmap, so a zip-format file is read here
  instead: the pickle gives `LazyTensor`s (shape, dtype, where the bytes are) and a tensor is read only when
  `materialize` asks for it. Either way the optimizer and the unselected state dict never reach memory.
"""
from __future__ import annotations

import inspect
import io
import pickle
import re
import resource
import struct
import sys
import types
import unittest.mock
import zipfile
from typing import Callable, Dict, Optional

import torch

_BUILTINS = {"object", "dict", "list", "set", "frozenset", "tuple", "int", "float", "complex", "bool", "str",
             "bytes", "bytearray", "slice", "range"}
_ALLOWED = {
    "builtins": _BUILTINS, "collections": {"OrderedDict", "defaultdict"}, "copyreg": {"_reconstructor"},
    "_codecs": {"encode"}, "numpy": {"ndarray", "dtype"}, "numpy.core.multiarray": {"_reconstruct", "scalar"},
    "numpy._core.multiarray": {"_reconstruct", "scalar"}, "torch": {"Size", "Tensor", "device"},
    "torch._tensor": {"_rebuild_from_type_v2"}, "torch.nn.parameter": {"Parameter"},
    "torch.serialization": {"_get_layout"},
}


def _allowed(module: str, name: str) -> bool:
    if name in _ALLOWED.get(module, ()):
        return True
    if module == "torch._utils":
        return name.startswith("_rebuild_")
    if module == "torch":
        return isinstance(getattr(torch, name, None), torch.dtype)
    return module == "numpy.dtypes"


class Stub(dict):
    """Stands in for a class the loader does not resolve; keeps what the pickle hands it (dict-based, because
    pickle fills dict subclasses such as mmengine's ConfigDict item by item)."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs

    def __setstate__(self, state):
        self.state = state

    def append(self, x):
        self.__dict__.setdefault("items_", []).append(x)

    def extend(self, xs):
        for x in xs:
            self.append(x)

    def add(self, x):
        self.append(x)

    def __repr__(self):
        return f"<stub {type(self).__qualname__}>"


class StubUnpickler(pickle.Unpickler):
    stubbed: Dict[str, type] = {}  # per-load subclasses get their own dict (see _unpickler)

    def find_class(self, module, name):
        if _allowed(module, name):
            try:
                return super().find_class(module, name)
            except (ImportError, AttributeError):
                pass  # e.g. numpy._core on numpy 1.x: a stub does no harm outside the weights
        full = f"{module}.{name}"
        if full not in self.stubbed:
            self.stubbed[full] = type(name, (Stub,), {"__module__": "stub." + module})
        return self.stubbed[full]


def _unpickler(stubbed: Dict[str, type], find_class: Optional[Callable] = None):
    attrs = {"stubbed": stubbed}
    if find_class is not None:
        attrs["find_class"] = find_class
    return type("Unpickler", (StubUnpickler,), attrs)


def _pickle_module(stubbed: Dict[str, type]) -> types.ModuleType:
    """What torch.load wants as `pickle_module`: `Unpickler`, `load` (legacy format) and a `__name__`."""
    m = types.ModuleType("vgt_stub_pickle")
    m.Unpickler = _unpickler(stubbed)
    m.load = lambda f, **kw: m.Unpickler(f, **kw).load()
    m.UnpicklingError = pickle.UnpicklingError
    return m


def _torch_load_with(pickle_module, path, **kw):
    if not torch.__version__.startswith("1."):
        return torch.load(path, pickle_module=pickle_module, **kw)
    # torch 1.13 replaces pickle_module by `pickle` whenever weights_only is False (fixed in 2.0), so it
    # gets ours through that module global instead
    with unittest.mock.patch.object(torch.serialization, "pickle", pickle_module):
        return torch.load(path, pickle_module=pickle_module, **kw)


# ------------------------------------------------------------------ lazy reader for torch<2.1 zip files
class LazyTensor:
    """A tensor in a torch zip checkpoint, not read yet: `shape`, `dtype`, and `materialize()`."""

    def __init__(self, path: str, data_offset: int, dtype: torch.dtype, offset: int, size, stride):
        self.path, self.data_offset, self.dtype = path, data_offset, dtype
        self.offset, self.shape, self.stride = offset, torch.Size(size), tuple(stride)

    def materialize(self) -> torch.Tensor:
        span = 1 + sum((n - 1) * s for n, s in zip(self.shape, self.stride)) if self.shape.numel() else 0
        isz = torch.empty(0, dtype=self.dtype).element_size()
        raw = torch.empty(span * isz, dtype=torch.uint8)
        with open(self.path, "rb") as f:
            f.seek(self.data_offset + self.offset * isz)
            if f.readinto(raw.numpy()) != raw.numel():
                raise EOFError(f"{self.path}: truncated tensor record")
        return raw.view(self.dtype).as_strided(self.shape, self.stride)

    def __repr__(self):
        return f"LazyTensor({tuple(self.shape)}, {self.dtype})"


def _record_offsets(path: str, zf: zipfile.ZipFile) -> Dict[str, int]:
    """Byte offset of every record's data: torch stores records uncompressed, after a local header whose
    name and extra-field lengths are at bytes 26-29."""
    out = {}
    with open(path, "rb") as f:
        for zi in zf.infolist():
            if zi.compress_type != zipfile.ZIP_STORED:
                continue
            f.seek(zi.header_offset + 26)
            n, m = struct.unpack("<HH", f.read(4))
            out[zi.filename] = zi.header_offset + 30 + n + m
    return out


def _lazy_load(path: str, stubbed: Dict[str, type]):
    with zipfile.ZipFile(path) as zf:
        pkl = [n for n in zf.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pkl) != 1:
            raise pickle.UnpicklingError(f"{path}: not a torch zip checkpoint (no <root>/data.pkl)")
        root = pkl[0][:-len("data.pkl")]
        offsets = _record_offsets(path, zf)
        data = zf.read(pkl[0])

    def find_class(self, module, name):
        if "Storage" in name and module == "torch":
            return torch.uint8 if name == "UntypedStorage" else getattr(torch, name).dtype
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return lambda st, off, size, stride, *rest: LazyTensor(path, st[1], st[0], off, size, stride)
        if module == "torch._utils" and name in ("_rebuild_parameter", "_rebuild_parameter_with_state"):
            return lambda data, *rest: data
        if module == "torch._tensor" and name == "_rebuild_from_type_v2":
            return lambda func, new_type, args, state: func(*args)
        if module == "torch._utils" and name.startswith("_rebuild_"):
            module = "unsupported." + module  # sparse, quantized...: not weights we read; stub them
        return StubUnpickler.find_class(self, module, name)

    U = _unpickler(stubbed, find_class)
    u = U(io.BytesIO(data), encoding="utf-8")
    # persistent id: ('storage', dtype (from find_class above), key, location, numel) -> (dtype, data offset)
    u.persistent_load = lambda pid: (pid[1], offsets[f"{root}data/{pid[2]}"])
    return u.load()


# ------------------------------------------------------------------------------------------ entry point
def load(path: str, log: Callable = print, lazy: Optional[bool] = None):
    """Loads any torch checkpoint on the CPU without running code from it. Tensors may be `LazyTensor`s
    (torch<2.1, zip format): read them with `materialize`."""
    stubbed: Dict[str, type] = {}
    params = inspect.signature(torch.load).parameters
    is_zip = zipfile.is_zipfile(path)
    if lazy is None:
        lazy = is_zip and "mmap" not in params
    if lazy:
        obj = _lazy_load(path, stubbed)
        how = f"read lazily (torch {torch.__version__} has no mmap)"
    else:
        kw = {"map_location": "cpu"}
        if "mmap" in params and is_zip:
            kw["mmap"] = True
        obj, how = None, "torch.load" + (", mmap" if kw.get("mmap") else "")
        if "weights_only" in params:
            try:  # torch's own safe loader first: a plain state dict needs nothing else
                obj = torch.load(path, weights_only=True, **kw)
                how += ", weights_only=True"
            except pickle.UnpicklingError as e:
                m = re.search(r"Unsupported (?:global: GLOBAL |class )(\S+)", str(e))
                log(f"{path}: weights_only=True refused it ({m.group(1) if m else str(e)[:120]}); "
                    "loading again with the stub unpickler")
                kw["weights_only"] = False
        if obj is None:
            obj = _torch_load_with(_pickle_module(stubbed), path, **kw)
            how += ", stub unpickler"
    log(f"{path}: {how}")
    if stubbed:
        log(f"{path}: {len(stubbed)} classes not resolved, kept as stubs (only tensors are used): "
            + ", ".join(sorted(stubbed)))
    return obj


def is_tensor(v) -> bool:
    return torch.is_tensor(v) or isinstance(v, LazyTensor)


def materialize(v) -> torch.Tensor:
    return v.materialize() if isinstance(v, LazyTensor) else v


def peak_rss_gib() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 2**30 if sys.platform == "darwin" else r / 2**20  # bytes on macOS, KiB on Linux
