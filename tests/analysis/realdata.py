"""Where the shared real spectra are: ``shared/realdata`` beside the repository (the CI
clone has ``shared/`` next to it); tests skip, saying so, when it is absent."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REALDATA = REPO.parent / "shared" / "realdata"
#: temperature (K) of each file, from realdata/README.md
TEMPERATURES = {"tp_t1.csv": 1.66, "tp_b2.csv": 1.6, "tp_NbSe2-FeTaS2_8_2K.csv": 2.0,
                "tp_NbSe2-FeTaS2_8_3K.csv": 3.0, "tp_Nb.csv": 1.6}


def realdata(name: str) -> Path:
    """Path of a shared real spectrum, or skip the test when ../shared is absent."""
    path = REALDATA / name
    if not path.exists():
        pytest.skip(f"{path} absent: the real spectra live in ../shared/realdata beside the repo")
    return path
