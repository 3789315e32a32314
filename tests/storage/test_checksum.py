"""The writer's own Fletcher32 equals HDF5's, whole and updated row by row."""

import h5py
import numpy as np

from pcsdaq.storage.checksum import ChunkChecksum, fletcher32


def hdf5_checksum(tmp_path, data: np.ndarray) -> bytes:
    """The 4 bytes HDF5's Fletcher32 filter stores after ``data`` (one chunk)."""
    with h5py.File(tmp_path / "ref.h5", "w") as f:
        ds = f.create_dataset("d", data=data, chunks=data.shape, fletcher32=True)
        _mask, raw = ds.id.read_direct_chunk((0,) * data.ndim)
    return raw[-4:]


def test_whole_chunk_checksum_equals_hdf5s(tmp_path):
    rng = np.random.default_rng(14)
    for scale in (1e-12, 1.0, 1e30):
        data = rng.normal(size=(256, 12)) * scale
        data[rng.random(data.shape) < 0.3] = np.nan
        assert fletcher32(data.tobytes()).to_bytes(4, "little") == hdf5_checksum(tmp_path, data)


def test_row_by_row_updates_equal_hdf5s_checksum_of_the_buffer(tmp_path):
    rng = np.random.default_rng(1)
    c = ChunkChecksum(256, 11)
    c.chunk.fill(np.nan)
    c.reset()
    for r in list(range(256)) + [3, 3, 200]:  # new rows, and rows written again
        c.set_row(r, rng.normal(size=11) * 10.0 ** rng.integers(-10, 10))
        assert c.value == fletcher32(c.chunk.tobytes())
    assert bytes(c.buffer[-4:]) == hdf5_checksum(tmp_path, c.chunk.copy())
    assert bytes(c.buffer[:-4]) == c.chunk.tobytes()
