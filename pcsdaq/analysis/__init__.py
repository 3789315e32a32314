"""Analysis of measured data: normalisation, BTK fits, Delta(T), Tc from R(T), batches."""
