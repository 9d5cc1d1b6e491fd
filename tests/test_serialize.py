"""state, loadmodel, save and load (pyflux/serialize.py)."""

import os
import pathlib
import zipfile

import numpy as np
import pytest

import pyflux as flux
from pyflux.tree import children


class Norm:
    """A test layer with a trainable weight and non-trainable numpy state (like BatchNorm)."""

    _fields = ("weight", "running_mean", "steps", "eps")

    def __init__(self, n, dtype=np.float32, seed=0):
        rng = np.random.default_rng(seed)
        self.weight = flux.param(rng.standard_normal(n).astype(dtype))
        self.running_mean = rng.standard_normal(n).astype(dtype)
        self.steps = np.array(seed, dtype=np.int64)
        self.eps = 1e-5

    def __call__(self, x):
        return x


class Unicode:
    _fields = ("μ", "σ²")

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.μ = flux.param(rng.standard_normal(3))
        setattr(self, "σ²", rng.standard_normal(3))


def dense(n_in, n_out, dtype, seed, act=flux.identity, bias=True):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n_out, n_in)).astype(dtype)
    b = rng.standard_normal(n_out).astype(dtype) if bias else False
    return flux.Dense(W, b, act)


MODELS = {
    "dense": lambda dt, s: dense(4, 3, dt, s),
    "chain": lambda dt, s: flux.Chain(dense(4, 5, dt, s, flux.relu), dense(5, 2, dt, s + 1)),
    "nobias": lambda dt, s: dense(4, 3, dt, s, bias=False),
    "nested": lambda dt, s: flux.Chain(flux.Chain(dense(4, 5, dt, s, flux.tanh), flux.relu),
                                       dense(5, 3, dt, s + 1, bias=False),
                                       flux.Chain(dense(3, 2, dt, s + 2))),
    "norm": lambda dt, s: flux.Chain(dense(3, 3, dt, s), Norm(3, dt, s)),
}


def arrays(model):
    """(dotted path, numpy view) for every array in the model."""
    out = []

    def walk(x, path):
        if isinstance(x, flux.Tensor) or isinstance(x, np.ndarray):
            out.append((path, np.asarray(x)))
            return
        for key, child in children(x):
            walk(child, f"{path}.{key}" if path else str(key))

    walk(model, "")
    return out


def snapshot(model):
    return {path: a.copy() for path, a in arrays(model)}


def assert_same_arrays(a, b):
    sa, sb = snapshot(a), snapshot(b)
    assert sa.keys() == sb.keys()
    for k in sa:
        assert sa[k].dtype == sb[k].dtype, k
        assert sa[k].shape == sb[k].shape, k
        assert np.array_equal(sa[k], sb[k]), k


def assert_unchanged(model, before):
    after = snapshot(model)
    assert after.keys() == before.keys()
    for k in before:
        assert after[k].dtype == before[k].dtype and np.array_equal(after[k], before[k]), k


def leftovers(directory, keep):
    return sorted(p.name for p in pathlib.Path(directory).iterdir() if p.name not in keep)


# --- state ---------------------------------------------------------------------------------------

def test_state_mirrors_the_model():
    m = flux.Chain(dense(4, 3, np.float32, 0, flux.relu), flux.relu, dense(3, 2, np.float64, 1, bias=False))
    st = flux.state(m)
    assert list(st) == ["layers"]
    assert list(st["layers"]) == ["0", "2"]
    assert list(st["layers"]["0"]) == ["weight", "bias"]
    assert list(st["layers"]["2"]) == ["weight"]
    w = st["layers"]["0"]["weight"]
    assert type(w) is np.ndarray and w.dtype == np.float32 and w.shape == (3, 4)
    assert st["layers"]["2"]["weight"].dtype == np.float64
    assert np.array_equal(w, np.asarray(m.layers[0].weight))


def test_state_is_a_copy():
    m = dense(4, 3, np.float32, 0)
    before = snapshot(m)
    st = flux.state(m)
    st["weight"][...] = 7
    st["bias"] += 1
    assert_unchanged(m, before)
    m.weight[0, 0] = 99
    assert st["weight"][0, 0] == 7


def test_state_includes_numpy_fields():
    st = flux.state(Norm(3, np.float64, seed=4))
    assert set(st) == {"weight", "running_mean", "steps"}
    assert st["running_mean"].dtype == np.float64 and st["steps"].dtype == np.int64
    assert int(st["steps"]) == 4


def test_state_of_models_without_arrays():
    assert flux.state(flux.Chain(flux.relu, flux.tanh)) == {}
    assert flux.state(flux.relu) == {}


def test_state_of_dicts_and_lists():
    p = flux.param(np.ones(2))
    st = flux.state({"a": [p, "text", None], "b": flux.relu, 3: np.zeros(1, np.int32)})
    assert set(st) == {"a", "3"} and set(st["a"]) == {"0"}
    assert np.array_equal(st["a"]["0"], np.ones(2))


# --- loadmodel -----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", sorted(MODELS))
def test_loadmodel_round_trip(kind, dtype):
    src, dst = MODELS[kind](dtype, 1), MODELS[kind](dtype, 10)
    ids = [id(p) for p in flux.params(dst)]
    out = flux.loadmodel(dst, flux.state(src))
    assert out is dst
    assert_same_arrays(src, dst)
    assert [id(p) for p in flux.params(dst)] == ids


def test_loadmodel_from_another_model():
    src, dst = MODELS["nested"](np.float32, 1), MODELS["nested"](np.float32, 2)
    flux.loadmodel(dst, src)
    assert_same_arrays(src, dst)
    dst.layers[0].layers[0].weight[0, 0] = 123
    assert src.layers[0].layers[0].weight[0, 0] != 123


def test_loadmodel_keeps_identity_and_optimiser_state():
    src, dst = MODELS["chain"](np.float32, 1), MODELS["chain"](np.float32, 2)
    ps = flux.params(dst)
    opt = flux.setup(flux.Descent(0.1), dst)
    weight = dst.layers[0].weight
    flux.loadmodel(dst, flux.state(src))
    assert dst.layers[0].weight is weight
    assert all(a is b for a, b in zip(flux.params(dst), ps))
    x = np.ones((4, 3), np.float32)
    grads = flux.gradient(lambda m: flux.sum(m(x)), dst)[0]
    expected = np.asarray(src.layers[0].weight) - np.float32(0.1) * np.asarray(grads.layers[0].weight)
    flux.update(opt, dst, grads)
    assert np.allclose(np.asarray(dst.layers[0].weight), expected)


def test_loadmodel_into_a_different_shape_names_the_path_and_changes_nothing():
    src = flux.Chain(dense(40, 10, np.float32, 0), dense(41, 10, np.float32, 1))
    dst = flux.Chain(dense(40, 10, np.float32, 2), dense(40, 10, np.float32, 3))
    before = snapshot(dst)
    with pytest.raises(ValueError, match=r"^layers\.1\.weight: expected shape \(10, 40\), got \(10, 41\)$"):
        flux.loadmodel(dst, flux.state(src))
    assert_unchanged(dst, before)


def test_loadmodel_missing_key():
    src, dst = MODELS["chain"](np.float32, 1), MODELS["chain"](np.float32, 2)
    st = flux.state(src)
    del st["layers"]["1"]["bias"]
    before = snapshot(dst)
    with pytest.raises(ValueError, match=r"^layers\.1\.bias: missing"):
        flux.loadmodel(dst, st)
    assert_unchanged(dst, before)


@pytest.mark.parametrize("where", ["leaf", "layer", "top"])
def test_loadmodel_extra_key(where):
    src, dst = MODELS["chain"](np.float32, 1), MODELS["chain"](np.float32, 2)
    st = flux.state(src)
    extra = np.zeros(2, np.float32)
    if where == "leaf":
        st["layers"]["1"]["scale"], path = extra, "layers.1.scale"
    elif where == "layer":
        st["layers"]["2"], path = {"weight": extra}, "layers.2"
    else:
        st["other"], path = extra, "other"
    before = snapshot(dst)
    with pytest.raises(ValueError, match="^" + path.replace(".", r"\.") + ": the state has this entry"):
        flux.loadmodel(dst, st)
    assert_unchanged(dst, before)


def test_loadmodel_bias_false_mismatch():
    with pytest.raises(ValueError, match=r"^bias: the state has this entry"):
        flux.loadmodel(MODELS["nobias"](np.float32, 0), flux.state(MODELS["dense"](np.float32, 0)))
    with pytest.raises(ValueError, match=r"^bias: missing"):
        flux.loadmodel(MODELS["dense"](np.float32, 0), flux.state(MODELS["nobias"](np.float32, 0)))


def test_loadmodel_accepts_none_for_non_array_fields():
    src, dst = dense(4, 3, np.float32, 1), dense(4, 3, np.float32, 2)
    st = flux.state(src)
    st["σ"] = None
    flux.loadmodel(dst, st)
    assert_same_arrays(src, dst)


def test_loadmodel_accepts_params_lists_and_int_keys_in_a_state():
    src = flux.Chain(dense(2, 3, np.float64, 1), dense(3, 1, np.float64, 2))
    dst = flux.Chain(dense(2, 3, np.float64, 3), dense(3, 1, np.float64, 4))
    st = {"layers": [{"weight": layer.weight, "bias": layer.bias} for layer in src.layers]}
    flux.loadmodel(dst, st)
    assert_same_arrays(src, dst)
    flux.loadmodel(dst, {"layers": {0: flux.state(src.layers[0]), 1: flux.state(src.layers[1])}})


@pytest.mark.parametrize("weight, message", [
    ("abc", r"^weight: expected an array, got str"),
    (None, r"^weight: expected an array, got NoneType"),
    ({"x": np.zeros(1)}, r"^weight: expected an array, got a nested state"),
    (np.array(["a"] * 12).reshape(3, 4), r"^weight: expected a numeric array, got dtype <U1"),
])
def test_loadmodel_rejects_malformed_states(weight, message):
    dst = dense(4, 3, np.float32, 0)
    before = snapshot(dst)
    with pytest.raises(ValueError, match=message):
        flux.loadmodel(dst, {"weight": weight, "bias": np.zeros(3, np.float32)})
    assert_unchanged(dst, before)


def test_loadmodel_bad_top_level_type():
    with pytest.raises(ValueError, match=r"^the model: expected a nested state \(dict\), got an array"):
        flux.loadmodel(dense(4, 3, np.float32, 0), np.zeros(3))
    with pytest.raises(ValueError, match=r"^the model: expected a nested state \(dict\), got int"):
        flux.loadmodel(dense(4, 3, np.float32, 0), 3)


def test_loadmodel_converts_float64_state_into_float32_model():
    src, dst = MODELS["chain"](np.float64, 1), MODELS["chain"](np.float32, 2)
    flux.loadmodel(dst, flux.state(src))
    for (p, a), (_, b) in zip(arrays(dst), arrays(src)):
        assert a.dtype == np.float32, p
        assert np.array_equal(a, b.astype(np.float32)), p


def test_loadmodel_converts_float32_state_into_float64_model_exactly():
    src, dst = MODELS["chain"](np.float32, 1), MODELS["chain"](np.float64, 2)
    flux.loadmodel(dst, flux.state(src))
    for (p, a), (_, b) in zip(arrays(dst), arrays(src)):
        assert a.dtype == np.float64 and np.array_equal(a, b), p


def test_loadmodel_dtype_rules():
    dst = Norm(3, np.float32)
    good = {"weight": np.arange(3), "running_mean": np.array([True, False, True]), "steps": np.array(5, np.int32)}
    flux.loadmodel(dst, good)
    assert np.array_equal(np.asarray(dst.weight), [0, 1, 2]) and dst.weight.dtype == np.float32
    assert dst.running_mean.dtype == np.float32 and np.array_equal(dst.running_mean, [1, 0, 1])
    assert dst.steps.dtype == np.int64 and int(dst.steps) == 5
    before = snapshot(dst)
    cases = [
        ({"steps": np.array(1.5)}, r"^steps: cannot load a float64 array into the model's int64 array"),
        ({"weight": np.ones(3, np.complex64)}, r"^weight: cannot load a complex64"),
        ({"weight": np.array([1e300, 0, 0])}, r"^weight: values overflow the model's dtype float32"),
        ({"running_mean": np.zeros(4, np.float32)}, r"^running_mean: expected shape \(3,\), got \(4,\)"),
    ]
    for patch, message in cases:
        with pytest.raises(ValueError, match=message):
            flux.loadmodel(dst, {**good, **patch})
        assert_unchanged(dst, before)


def test_loadmodel_integer_range_is_checked():
    layer = Norm(3)
    layer.steps = np.array(0, np.int8)
    with pytest.raises(ValueError, match=r"^steps: values do not fit the model's dtype int8"):
        flux.loadmodel(layer, {**flux.state(layer), "steps": np.array(300)})
    with pytest.raises(ValueError, match=r"^steps: cannot load a int64 array into the model's uint8"):
        layer.steps = np.array(0, np.uint8)
        flux.loadmodel(layer, {**flux.state(layer), "steps": np.array(3)})


def test_loadmodel_tied_parameters():
    shared = dense(3, 3, np.float32, 0)
    dst = flux.Chain(shared, shared)
    src = flux.Chain(dense(3, 3, np.float32, 1), dense(3, 3, np.float32, 1))
    flux.loadmodel(dst, flux.state(src))
    assert np.array_equal(np.asarray(shared.weight), np.asarray(src.layers[0].weight))
    before = snapshot(dst)
    st = flux.state(src)
    st["layers"]["1"]["weight"] = st["layers"]["1"]["weight"] + 1
    with pytest.raises(ValueError, match=r"^layers\.1\.weight: the model ties this array to layers\.0\.weight"):
        flux.loadmodel(dst, st)
    assert_unchanged(dst, before)


def test_loadmodel_swapping_shared_params_is_safe():
    a, b = flux.param(np.array([1.0, 2.0])), flux.param(np.array([3.0, 4.0]))
    model = {"x": a, "y": b}
    flux.loadmodel(model, {"x": b, "y": a})
    assert np.array_equal(np.asarray(a), [3, 4]) and np.array_equal(np.asarray(b), [1, 2])


def test_loadmodel_refuses_read_only_arrays():
    layer = Norm(3)
    layer.running_mean.flags.writeable = False
    before = snapshot(layer)
    with pytest.raises(ValueError, match=r"^running_mean: the model's array is read-only"):
        flux.loadmodel(layer, flux.state(Norm(3, seed=1)))
    assert_unchanged(layer, before)


def test_loadmodel_refuses_traced_params():
    model = dense(2, 1, np.float64, 0)
    st = flux.state(dense(2, 1, np.float64, 1))

    def loss(m):
        flux.loadmodel(m, st)
        return flux.sum(m(np.ones(2)))

    with pytest.raises(RuntimeError, match="tracing"):
        flux.gradient(loss, model)


# --- save and load -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", sorted(MODELS))
def test_save_load_round_trip(tmp_path, kind, dtype):
    src, dst = MODELS[kind](dtype, 1), MODELS[kind](dtype, 10)
    ps = [p for p in flux.params(dst)]
    path = tmp_path / "model.npz"
    flux.save(path, src)
    assert flux.load(path, dst) is dst
    assert_same_arrays(src, dst)
    assert all(a is b for a, b in zip(flux.params(dst), ps))
    assert leftovers(tmp_path, {"model.npz"}) == []


def test_save_load_numpy_state_fields(tmp_path):
    src, dst = Norm(4, np.float64, seed=1), Norm(4, np.float64, seed=2)
    running_mean = dst.running_mean
    flux.save(tmp_path / "n.npz", src)
    flux.load(tmp_path / "n.npz", dst)
    assert dst.running_mean is running_mean
    assert np.array_equal(dst.running_mean, src.running_mean) and dst.running_mean.dtype == np.float64
    assert np.array_equal(np.asarray(dst.weight), np.asarray(src.weight))
    assert int(dst.steps) == 1 and dst.steps.dtype == np.int64


def test_save_load_unicode_field_names(tmp_path):
    src, dst = Unicode(1), Unicode(2)
    flux.save(str(tmp_path / "u.npz"), src)
    with np.load(tmp_path / "u.npz", allow_pickle=False) as z:
        assert set(z.files) == {"__pyflux_format__", "μ", "σ²"}
    flux.load(str(tmp_path / "u.npz"), dst)
    assert_same_arrays(src, dst)


def test_save_load_model_without_arrays(tmp_path):
    flux.save(tmp_path / "empty", flux.Chain(flux.relu))
    assert flux.load(tmp_path / "empty", {}) == {}
    with pytest.raises(ValueError, match=r"empty into the model: layers: missing from the state$"):
        flux.load(tmp_path / "empty", flux.Chain(dense(2, 2, np.float32, 0)))


def test_save_load_special_arrays(tmp_path):
    m = {"empty": np.zeros((0, 3), np.float32), "scalar": np.array(2.5), "fortran": np.asfortranarray(
        np.arange(6.0).reshape(2, 3)), "big_endian": np.arange(3, dtype=">f8"), "flag": np.array([True, False])}
    flux.save(tmp_path / "s.npz", m)
    dst = {k: np.zeros_like(v) for k, v in m.items()}
    flux.load(tmp_path / "s.npz", dst)
    for k in m:
        assert dst[k].dtype == m[k].dtype and np.array_equal(dst[k], m[k]), k


def test_saved_file_is_a_plain_npz(tmp_path):
    m = MODELS["nested"](np.float32, 0)
    flux.save(tmp_path / "m.npz", m)
    with np.load(tmp_path / "m.npz", allow_pickle=False) as z:
        files = set(z.files)
        assert z["__pyflux_format__"].dtype == np.int64 and int(z["__pyflux_format__"]) == 1
        assert np.array_equal(z["layers.0.layers.0.weight"], np.asarray(m.layers[0].layers[0].weight))
        assert all(z[k].dtype != object for k in files)
    assert files == {"__pyflux_format__", "layers.0.layers.0.weight", "layers.0.layers.0.bias",
                     "layers.1.weight", "layers.2.layers.0.weight", "layers.2.layers.0.bias"}


UNPICKLED = []


def record_unpickling():
    UNPICKLED.append(True)
    return "unpickled"


class Sneaky:
    def __reduce__(self):
        return (record_unpickling, ())


def test_file_with_object_array_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    obj = np.empty(1, dtype=object)
    obj[0] = Sneaky()
    w = np.zeros((3, 4), np.float32)
    np.savez(path, __pyflux_format__=np.array(1), weight=w, bias=obj)
    dst = dense(4, 3, np.float32, 0)
    before = snapshot(dst)
    with pytest.raises(ValueError, match="entry 'bias' holds pickled Python objects"):
        flux.load(path, dst)
    assert UNPICKLED == []
    assert_unchanged(dst, before)


def test_object_and_string_arrays_are_not_state():
    assert flux.state({"w": np.array([object()], dtype=object), "s": np.array(["a"])}) == {}


def test_non_pyflux_files_are_refused(tmp_path):
    dst = dense(4, 3, np.float32, 0)
    np.savez(tmp_path / "other.npz", weight=np.zeros((3, 4)), bias=np.zeros(3))
    with pytest.raises(ValueError, match=r"not a pyflux save file \(an \.npz archive without the __pyflux_format__"):
        flux.load(tmp_path / "other.npz", dst)
    np.save(tmp_path / "array.npy", np.zeros(3))
    with pytest.raises(ValueError, match=r"not a pyflux save file \(not an \.npz archive\)"):
        flux.load(tmp_path / "array.npy", dst)
    (tmp_path / "text.txt").write_text("hello")
    with pytest.raises(ValueError, match=r"not a pyflux save file \(not an \.npz archive\)"):
        flux.load(tmp_path / "text.txt", dst)
    (tmp_path / "blank").write_bytes(b"")
    with pytest.raises(ValueError, match=r"not a pyflux save file"):
        flux.load(tmp_path / "blank", dst)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        flux.load(tmp_path / "nope.npz", dense(4, 3, np.float32, 0))


@pytest.mark.parametrize("damage", ["truncate", "flip", "header"])
def test_corrupt_file(tmp_path, damage):
    m = MODELS["chain"](np.float32, 0)
    path = tmp_path / "m.npz"
    flux.save(path, m)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        start = data.find(b"\x93NUMPY", data.find(b"layers.0.weight.npy"))
        data[start + 140] ^= 0xFF
    else:
        start = data.find(b"\x93NUMPY", data.find(b"layers.0.weight.npy"))
        data[start + 1] = ord("X")
    path.write_bytes(bytes(data))
    dst = MODELS["chain"](np.float32, 1)
    before = snapshot(dst)
    with pytest.raises(ValueError, match="not a valid pyflux save file"):
        flux.load(path, dst)
    assert_unchanged(dst, before)


def test_header_claiming_more_data_than_stored(tmp_path):
    path = tmp_path / "lie.npz"
    with zipfile.ZipFile(path, "w") as zf:
        with zf.open("__pyflux_format__.npy", "w") as f:
            np.lib.format.write_array(f, np.array(1, np.int64))
        with zf.open("weight.npy", "w") as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": (10**12,)})
            f.write(np.zeros(2, np.float32).tobytes())
    with pytest.raises(ValueError, match="not a valid pyflux save file.*entry 'weight' is shorter than its header"):
        flux.load(path, {"weight": flux.param(np.zeros(2, np.float32))})


def test_newer_format_version_is_refused(tmp_path):
    np.savez(tmp_path / "future.npz", __pyflux_format__=np.array(2), weight=np.zeros((3, 4)))
    with pytest.raises(ValueError, match="format 2"):
        flux.load(tmp_path / "future.npz", dense(4, 3, np.float32, 0))


def test_load_mismatch_names_file_and_path(tmp_path):
    flux.save(tmp_path / "m.npz", flux.Chain(dense(40, 10, np.float32, 0), dense(41, 10, np.float32, 1)))
    dst = flux.Chain(dense(40, 10, np.float32, 2), dense(40, 10, np.float32, 3))
    before = snapshot(dst)
    with pytest.raises(ValueError, match=r"m\.npz into the model: layers\.1\.weight: expected shape \(10, 40\), "
                                         r"got \(10, 41\)$"):
        flux.load(tmp_path / "m.npz", dst)
    assert_unchanged(dst, before)


@pytest.mark.parametrize("name", ["model.ckpt", "model", "weights.bin.npz.bak"])
@pytest.mark.parametrize("as_str", [True, False])
def test_save_uses_the_exact_path(tmp_path, name, as_str):
    src, dst = MODELS["chain"](np.float64, 1), MODELS["chain"](np.float64, 2)
    path = str(tmp_path / name) if as_str else tmp_path / name
    flux.save(path, src)
    assert leftovers(tmp_path, set()) == [name]
    flux.load(path, dst)
    assert_same_arrays(src, dst)


def test_save_overwrites_previous_file(tmp_path):
    path = tmp_path / "m.npz"
    flux.save(path, MODELS["chain"](np.float32, 1))
    src = MODELS["chain"](np.float32, 2)
    flux.save(path, src)
    dst = MODELS["chain"](np.float32, 3)
    flux.load(path, dst)
    assert_same_arrays(src, dst)
    assert leftovers(tmp_path, set()) == ["m.npz"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_save_keeps_permissions_of_an_existing_file(tmp_path):
    path = tmp_path / "m.npz"
    flux.save(path, MODELS["dense"](np.float32, 1))
    os.chmod(path, 0o640)
    flux.save(path, MODELS["dense"](np.float32, 2))
    assert os.stat(path).st_mode & 0o777 == 0o640


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_save_through_a_symlink_replaces_its_target(tmp_path):
    real = tmp_path / "real.npz"
    flux.save(real, MODELS["dense"](np.float32, 1))
    link = tmp_path / "link.npz"
    try:
        os.symlink(real, link)
    except OSError:
        pytest.skip("cannot create symlinks here")
    src = MODELS["dense"](np.float32, 2)
    flux.save(link, src)
    assert link.is_symlink()
    dst = MODELS["dense"](np.float32, 3)
    flux.load(real, dst)
    assert_same_arrays(src, dst)


def test_save_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        flux.save(tmp_path / "missing_dir" / "m.npz", MODELS["dense"](np.float32, 1))
    with pytest.raises(IsADirectoryError):
        flux.save(tmp_path, MODELS["dense"](np.float32, 1))
    with pytest.raises(ValueError, match=r"cannot save the key 'a\.b'"):
        flux.save(tmp_path / "d.npz", {"a.b": flux.param(np.zeros(2))})
    with pytest.raises(ValueError, match="__pyflux_format__"):
        flux.save(tmp_path / "d.npz", {"__pyflux_format__": np.zeros(2)})
    with pytest.raises(TypeError, match="bare array"):
        flux.save(tmp_path / "d.npz", flux.param(np.zeros(2)))
    assert leftovers(tmp_path, set()) == []


# --- atomicity -----------------------------------------------------------------------------------

def crash_in_replace(monkeypatch):
    def boom(*args, **kwargs):
        raise OSError("simulated crash before the rename")
    monkeypatch.setattr(os, "replace", boom)
    return OSError


def crash_while_writing(monkeypatch):
    real = np.lib.format.write_array
    calls = []

    def write_some(fp, array, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            fp.write(b"partial")
            raise KeyboardInterrupt
        return real(fp, array, *args, **kwargs)
    monkeypatch.setattr(np.lib.format, "write_array", write_some)
    return KeyboardInterrupt


def crash_in_fsync(monkeypatch):
    def boom(fd):
        raise OSError("simulated disk full")
    monkeypatch.setattr(os, "fsync", boom)
    return OSError


@pytest.mark.parametrize("crash", [crash_in_replace, crash_while_writing, crash_in_fsync])
def test_interrupted_save_keeps_previous_file(tmp_path, monkeypatch, crash):
    path = tmp_path / "m.npz"
    old = MODELS["chain"](np.float32, 1)
    flux.save(path, old)
    old_bytes = path.read_bytes()
    error = crash(monkeypatch)
    with pytest.raises(error):
        flux.save(path, MODELS["chain"](np.float32, 2))
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert leftovers(tmp_path, {"m.npz"}) == []
    dst = MODELS["chain"](np.float32, 3)
    flux.load(path, dst)
    assert_same_arrays(old, dst)


def test_interrupted_first_save_leaves_nothing(tmp_path, monkeypatch):
    crash_in_replace(monkeypatch)
    with pytest.raises(OSError, match="simulated"):
        flux.save(tmp_path / "m.npz", MODELS["dense"](np.float32, 1))
    assert leftovers(tmp_path, set()) == []


# --- optimiser state -------------------------------------------------------------------------------

def _optimiser_problem(dtype):
    rng = np.random.default_rng(5)
    model = flux.Chain(flux.Dense(rng.standard_normal((4, 3)).astype(dtype), np.zeros(4, dtype), flux.tanh),
                       flux.Dense(rng.standard_normal((2, 4)).astype(dtype), np.zeros(2, dtype)))
    data = [(rng.standard_normal((3, 5)).astype(dtype), rng.standard_normal((2, 5)).astype(dtype))
            for _ in range(8)]
    return model, data


def _mse(m, x, y):
    return flux.mse(m(x), y)


OPTIMISER_RULES = [
    lambda: flux.Adam(0.01), lambda: flux.RAdam(0.01, (0.8, 0.9)), lambda: flux.OAdam(0.01),
    lambda: flux.Momentum(0.05), lambda: flux.AdaGrad(0.05), lambda: flux.AMSGrad(0.01),
    lambda: flux.RMSProp(0.01, centred=True), lambda: flux.AdaDelta(),
    lambda: flux.OptimiserChain(flux.WeightDecay(0.01), flux.ClipNorm(1.0), flux.NAdam(0.01)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make_rule", OPTIMISER_RULES)
def test_optimiser_state_round_trips_and_training_resumes_exactly(tmp_path, make_rule, dtype):
    straight, data = _optimiser_problem(dtype)
    flux.train(_mse, straight, data, flux.setup(make_rule(), straight))

    model, _ = _optimiser_problem(dtype)
    state = flux.setup(make_rule(), model)
    flux.train(_mse, model, data[:3], state)
    flux.save(tmp_path / "model.npz", model)
    flux.save(tmp_path / "opt.npz", state)
    resumed, _ = _optimiser_problem(dtype)
    flux.load(tmp_path / "model.npz", resumed)
    fresh = flux.setup(make_rule(), resumed)
    assert flux.load(tmp_path / "opt.npz", fresh) is fresh
    flux.train(_mse, resumed, data[3:], fresh)
    for got, want in zip(flux.params(resumed), flux.params(straight)):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_optimiser_state_file_holds_moments_and_step_counts(tmp_path):
    model, data = _optimiser_problem(np.float64)
    state = flux.setup(flux.Adam(0.01), model)
    flux.train(_mse, model, data[:2], state)
    flux.save(tmp_path / "opt.npz", state)
    with np.load(tmp_path / "opt.npz") as saved:
        keys = set(saved.files)
        assert {"0.0.0.m", "0.0.0.v", "0.0.0.t", "0.0.0.beta_t"} <= keys
        assert int(saved["0.0.0.t"]) == 2
        np.testing.assert_array_equal(saved["0.0.0.m"], state.layers[0].weight.state["m"])


def test_loading_optimiser_state_into_another_rule_is_refused(tmp_path):
    model, data = _optimiser_problem(np.float64)
    state = flux.setup(flux.Adam(0.01), model)
    flux.train(_mse, model, data[:2], state)
    flux.save(tmp_path / "opt.npz", state)
    momentum = flux.setup(flux.Momentum(), model)
    with pytest.raises(ValueError, match="0.0.0.m: the state has this entry but the model does not"):
        flux.load(tmp_path / "opt.npz", momentum)
    assert not momentum.layers[0].weight.state["v"].any()
