"""Hostile and damaged save files: sizes checked against the model before anything is read, every
damaged file a ValueError naming the file, and temporary files of killed saves cleaned up."""

import os
import random
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import pyflux as flux


def _model():
    return flux.Chain(flux.Dense(3, 4, flux.relu), flux.Dense(4, 2))


def _bomb(path, shape, dtype=np.float32):
    """A pyflux-looking file whose first weight is a small deflated member declaring a huge array."""
    header = np.lib.format.header_data_from_array_1_0(np.zeros(1, dtype))
    header["shape"] = shape
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("__pyflux_format__.npy", "w") as f:
            np.lib.format.write_array(f, np.array(1, np.int64))
        with zf.open("layers.0.weight.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, header)
            block = bytes(1 << 20)
            for _ in range(int(np.prod(shape)) * np.dtype(dtype).itemsize >> 20):
                f.write(block)


def _refuse_reading(monkeypatch, entry):
    real = np.lib.format.read_array

    def read_array(member, *args, **kwargs):
        assert entry not in member.name, "array data was read before the size check"
        return real(member, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "read_array", read_array)


def test_a_member_declaring_more_than_the_model_holds_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "bomb.npz"
    _bomb(path, (4096, 4096))  # 64 MiB declared, about 64 KiB on disk
    assert os.path.getsize(path) < 1 << 20

    _refuse_reading(monkeypatch, "layers.0.weight")
    with pytest.raises(ValueError, match=f"cannot load {path} into the model: layers.0.weight: the file declares"):
        flux.load(path, _model())


def test_a_member_whose_header_shape_differs_is_refused_before_reading(tmp_path, monkeypatch):
    m = _model()
    path = tmp_path / "m.npz"
    flux.save(path, m)
    other = flux.Chain(flux.Dense(3, 4, flux.relu), flux.Dense(2, 4))
    _refuse_reading(monkeypatch, "layers.1.weight")
    with pytest.raises(ValueError, match=r"layers.1.weight: expected shape \(4, 2\), got \(2, 4\)"):
        flux.load(path, other)


def test_an_entry_the_model_lacks_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    flux.save(path, _model())
    with pytest.raises(ValueError, match="layers.1.bias: the state has this entry but the model does not"):
        flux.load(path, flux.Chain(flux.Dense(3, 4, flux.relu), flux.Dense(4, 2, bias=False)))


def test_every_damaged_file_is_a_value_error_naming_it(tmp_path):
    good_path = tmp_path / "m.npz"
    flux.save(good_path, _model())
    good = good_path.read_bytes()
    rng = random.Random(1234)
    bad_path = tmp_path / "bad.npz"
    for _ in range(300):
        data = bytearray(good)
        if rng.random() < 0.3:
            data = data[: rng.randrange(len(data))]
        else:
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        bad_path.write_bytes(bytes(data))
        try:
            flux.load(bad_path, _model())
        except ValueError as err:
            assert str(bad_path) in str(err)


def test_unsupported_compression_is_a_value_error(tmp_path):
    path = tmp_path / "m.npz"
    flux.save(path, _model())
    data = bytearray(path.read_bytes())
    # The compression method of the first local header and of every central directory entry: 99 (AES).
    data[8:10] = (99).to_bytes(2, "little")
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        data[at + 10:at + 12] = (99).to_bytes(2, "little")
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=str(path)):
        flux.load(path, _model())


def test_a_save_removes_temporary_files_of_killed_saves(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".m.npz.pyflux-save.{dead_pid}.0123456789ab.tmp"
    live = tmp_path / f".m.npz.pyflux-save.{os.getppid()}.0123456789ab.tmp"
    other = tmp_path / f".n.npz.pyflux-save.{dead_pid}.0123456789ab.tmp"
    for f in (stale, live, other):
        f.write_bytes(b"partial")
    flux.save(tmp_path / "m.npz", _model())
    assert not stale.exists()
    assert live.exists()  # a save in progress in a running process
    assert other.exists()  # belongs to another target
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["m.npz", live.name, other.name])


def test_a_killed_save_leaves_its_temporary_file_for_the_next_save_to_remove(tmp_path):
    code = (
        "import os, sys, pyflux as flux\n"
        "import pyflux.serialize as s\n"
        "real = s.os.replace\n"
        "def die(*a):\n"
        "    os._exit(9)\n"
        "s.os.replace = die\n"
        f"flux.save({str(tmp_path / 'm.npz')!r}, flux.Dense(3, 4))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 9, done.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    flux.save(tmp_path / "m.npz", flux.Dense(3, 4))
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
