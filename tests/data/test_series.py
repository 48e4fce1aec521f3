"""data.series: NaN policies at the boundary and forecasting windows."""

import numpy as np
import pytest

from seqrecipes import data

from data_helpers import as_lists


def test_from_series_nan_policies():
    values = [1.0, np.nan, 3.0, np.nan, np.nan, 6.0]
    with pytest.raises(ValueError, match=r"NaN or inf \(or a number beyond float32\) at 3 of 6 time steps \(first at index 1\).*Received: nan_policy='raise'"):
        data.from_series(values)
    with pytest.warns(UserWarning, match="3 time steps with NaN"):
        dropped = data.from_series(values, nan_policy="drop")
    assert [float(v[0]) for v in dropped.as_numpy_iterator()] == [1.0, 3.0, 6.0]
    with pytest.warns(UserWarning):
        filled = data.from_series(values, nan_policy="interpolate")
    assert [float(v[0]) for v in filled.as_numpy_iterator()] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    with pytest.warns(UserWarning):
        np.testing.assert_array_equal(data.clean_series([np.nan, 2.0, np.nan], "interpolate")[:, 0], [2.0, 2.0, 2.0])
    assert np.isnan(data.clean_series(values, "keep")[1, 0])
    with pytest.raises(ValueError, match=r"only NaN"):
        data.clean_series([np.nan, np.nan], "drop")
    with pytest.raises(ValueError, match=r"is empty"):
        data.from_series([])
    with pytest.raises(ValueError, match=r"Received: series.shape=\(2, 2, 2\)"):
        data.from_series(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"Received: nan_policy='ignore'"):
        data.from_series([1.0], nan_policy="ignore")


def test_series_windows_exact():
    ds = data.from_series(np.arange(7, dtype="float32"))
    windows = as_lists(ds.apply(data.series_windows(3, horizon=2, stride=2)))
    assert windows == [([[0.0], [1.0], [2.0]], [[3.0], [4.0]]), ([[2.0], [3.0], [4.0]], [[5.0], [6.0]])]
    spec = ds.apply(data.series_windows(3, horizon=2)).element_spec
    assert spec[0].shape.as_list() == [3, 1] and spec[1].shape.as_list() == [2, 1]
    two = data.from_series(np.arange(10, dtype="float32").reshape(5, 2))
    x, y = next(iter(two.apply(data.series_windows(4))))
    assert x.numpy().tolist() == [[0, 1], [2, 3], [4, 5], [6, 7]] and y.numpy().tolist() == [[8, 9]]


def test_series_windows_errors_and_nan():
    ds = data.from_series([1.0, 2.0, 3.0, 4.0, 5.0])
    with pytest.raises(ValueError, match=r"longer than the series \(5 steps\). Received: input_length=4, horizon=2"):
        ds.apply(data.series_windows(4, horizon=2))
    with pytest.raises(ValueError, match=r"Received: input_length=0"):
        data.series_windows(0)
    with pytest.raises(ValueError, match=r"finite series"):
        ds.repeat().apply(data.series_windows(2))
    gappy = data.from_series([0.0, 1.0, np.nan, 3.0, 4.0, 5.0, 6.0], nan_policy="keep")
    with pytest.raises(ValueError, match=r"NaN or inf at 1 of 7 time steps \(first at index 2\)"):
        gappy.apply(data.series_windows(2))
    kept = as_lists(gappy.apply(data.series_windows(2, nan_policy="drop")))
    assert [(np.ravel(x).tolist(), np.ravel(y).tolist()) for x, y in kept] == [([3.0, 4.0], [5.0]), ([4.0, 5.0], [6.0])]
