"""h5py's half of `lens bench --targets --python PY`: appends ROWS rows of [1, 256, 1024] float32
to a new extendable dataset chunked by row (the layout of `lens bench`'s HDF5 append row) in the
file PATH, and prints the seconds it took (file creation to close) as one number."""
import sys
import time

import h5py
import numpy as np

path, rows = sys.argv[1], int(sys.argv[2])
row = np.full((1, 256, 1024), 0.5, dtype=np.float32)
start = time.perf_counter()
with h5py.File(path, "w") as f:
    ds = f.create_dataset("x", shape=(0,) + row.shape, maxshape=(None,) + row.shape,
                          chunks=(1,) + row.shape, dtype=np.float32)
    for i in range(rows):
        ds.resize(i + 1, axis=0)
        ds[i] = row
    f.flush()
print(time.perf_counter() - start)
