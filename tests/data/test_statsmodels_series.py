"""data.statsmodels_series: the series statsmodels ships, NaN included."""

import numpy as np
import pytest

from seqrecipes import data

from data_helpers import items


def test_statsmodels_series():
    nile = [float(v[0]) for v in items(data.statsmodels_series("nile"))]
    assert len(nile) == 100 and nile[:3] == [1120.0, 1160.0, 963.0]
    assert int(data.statsmodels_series("sunspots").cardinality()) == 309
    assert int(data.statsmodels_series("elnino").cardinality()) == 732
    with pytest.raises(ValueError, match=r"'co2' holds NaN or inf \(or a number beyond float32\) at 5 of 526 time steps"):
        data.statsmodels_series("co2")
    with pytest.warns(UserWarning):
        co2 = np.array([v[0] for v in items(data.statsmodels_series("co2", nan_policy="interpolate"))])
    assert len(co2) == 526 and np.isfinite(co2).all()
    windows = data.statsmodels_series("nile").apply(data.series_windows(24, horizon=12, stride=12))
    assert int(sum(1 for _ in windows)) == 6
    with pytest.raises(ValueError, match=r"known: \['co2', 'elnino', 'macrodata', 'nile', 'sunspots'\]"):
        data.statsmodels_series("airline")
