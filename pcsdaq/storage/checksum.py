"""HDF5's Fletcher32 chunk checksum, computed here so the writer can keep direct chunk writes.

The rows dataset carries HDF5's Fletcher32 filter: every chunk on disk is the raw bytes plus a
4-byte checksum, which any HDF5 reader (h5py, h5dump, MATLAB ...) verifies when it reads the
chunk, so a corrupted block is refused ("data error detected by fletcher32 checksum") instead
of read as numbers. :meth:`RunWriter.append` writes whole chunks with ``H5Dwrite_chunk``,
which bypasses the filter pipeline, so the checksum is made here with HDF5's algorithm
(``H5_checksum_fletcher32``): 16-bit big-endian words, ``sum1 = sum of words``, ``sum2 = sum
of the running sums``, both reduced with end-around carry (1..65535; 0 only for all-zero
data), stored little-endian as ``sum2 << 16 | sum1`` after the data.

Both sums are linear in the words, so when one row of a chunk changes the checksum is
updated from that row's words alone (:class:`ChunkChecksum`), not the whole 24 kB chunk.
"""

from __future__ import annotations

import operator
import struct

import numpy as np

_MOD = 65535


def _fold(total: int) -> int:
    """HDF5's end-around-carry reduction of an exact sum: 0 for 0, else 1..65535."""
    return 0 if total == 0 else 1 + (total - 1) % _MOD


def fletcher32(data: bytes | np.ndarray) -> int:
    """HDF5's Fletcher32 checksum of ``data`` (an even number of bytes)."""
    raw = np.frombuffer(bytes(data) if not isinstance(data, np.ndarray) else data.tobytes(),
                        dtype=">u2").astype(np.int64)
    n = len(raw)
    s1 = int(raw.sum())
    s2 = int(np.dot(raw, np.arange(n, 0, -1, dtype=np.int64)))
    return (_fold(s2) << 16) | _fold(s1)


class ChunkChecksum:
    """A chunk buffer (rows x columns float64) with its exact Fletcher32 sums kept current.

    :attr:`chunk` is the array the writer fills; :attr:`buffer` is the same memory plus 4
    bytes for the checksum, i.e. the chunk exactly as the Fletcher32 filter stores it (what
    ``H5Dwrite_chunk`` takes, no copy). Call :meth:`reset` after refilling the chunk whole,
    and :meth:`set_row` to change one row.

    Per row r of k words w_j the checksum needs its word sum a_r = sum w_j and its share of
    the weighted sum, (L - r k) a_r - c_r with c_r = sum j w_j (L = words in the chunk), so
    a row's change costs two sums over its own k words (plain Python: no numpy call
    overhead on 48 numbers)."""

    def __init__(self, n_rows: int, n_columns: int) -> None:
        nbytes = n_rows * n_columns * 8
        self.buffer = np.zeros(nbytes + 4, dtype=np.uint8)
        self.chunk = self.buffer[:nbytes].view("<f8").reshape(n_rows, n_columns)
        self._nbytes = nbytes
        self._view = memoryview(self.buffer.data)
        self._k = n_columns * 4  # 16-bit words per row
        self._n_words = n_rows * self._k
        self._row_words = struct.Struct(f">{self._k}H")
        self._j = list(range(self._k))
        self.reset()

    def _row_sums(self, words: tuple[int, ...]) -> tuple[int, int]:
        return sum(words), sum(map(operator.mul, self._j, words))

    def reset(self) -> None:
        """Recompute the sums from the whole chunk."""
        w = self.buffer[: self._nbytes].view(">u2").astype(np.int64).reshape(-1, self._k)
        self._a = [int(v) for v in w.sum(axis=1)]
        self._c = [int(v) for v in w @ np.arange(self._k, dtype=np.int64)]
        self._s1 = sum(self._a)
        self._s2 = sum((self._n_words - r * self._k) * a - c
                       for r, (a, c) in enumerate(zip(self._a, self._c, strict=True)))
        self._store()

    def set_row(self, r: int, values: np.ndarray) -> None:
        """Write ``values`` (float64, one per column) into row ``r``; update the sums."""
        self.chunk[r] = values
        a, c = self._row_sums(self._row_words.unpack_from(self._view, r * self._k * 2))
        da, dc = a - self._a[r], c - self._c[r]
        self._a[r], self._c[r] = a, c
        self._s1 += da
        self._s2 += (self._n_words - r * self._k) * da - dc
        self._store()

    def _store(self) -> None:
        struct.pack_into("<I", self._view, self._nbytes, self.value)

    @property
    def value(self) -> int:
        """The chunk's checksum as HDF5 stores it (little-endian uint32 after the data)."""
        return (_fold(self._s2) << 16) | _fold(self._s1)
