"""HDF5 run storage: streamed, crash-consistent writer and a reader returning numpy arrays."""
