"""Real monthly and yearly series that statsmodels ships (no download), ready for series_windows."""

import numpy as np

from seqrecipes.data.series import from_series

STATSMODELS_SERIES = {
    "sunspots": "yearly mean sunspot number, 1700-2008 (309 steps)",
    "nile": "yearly flow of the Nile at Aswan, 1871-1970 (100 steps)",
    "elnino": "monthly Pacific sea-surface temperature (El Nino), 1950-2010 (732 steps)",
    "co2": "monthly mean CO2 at Mauna Loa, 1958-2001 (526 steps; 5 months missing: NaN)",
    "macrodata": "quarterly US real GDP, 1959-2009 (203 steps)",
}


def statsmodels_values(name):
    """The raw values of one of ``STATSMODELS_SERIES`` as a float32 NumPy array (NaN kept).

    Raises:
        ValueError: ``name`` is not one of ``STATSMODELS_SERIES``.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import data
    >>> values = data.statsmodels_values("co2")
    >>> values.shape, int(np.isnan(values).sum())
    ((526,), 5)
    """
    if not isinstance(name, str) or name not in STATSMODELS_SERIES:
        raise ValueError(f"Unknown statsmodels series; known: {sorted(STATSMODELS_SERIES)}. Received: name={name!r}")
    from statsmodels import datasets

    if name == "sunspots":
        values = datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
    elif name == "nile":
        values = datasets.nile.load_pandas().data["volume"].to_numpy()
    elif name == "elnino":
        values = datasets.elnino.load_pandas().data.drop(columns="YEAR").to_numpy().reshape(-1)
    elif name == "co2":
        values = datasets.co2.load_pandas().data["co2"].resample("MS").mean().to_numpy()
    else:
        values = datasets.macrodata.load_pandas().data["realgdp"].to_numpy()
    return np.asarray(values, dtype=np.float32)


def statsmodels_series(name, nan_policy="raise"):
    """One of the series statsmodels ships, as a dataset of time steps.

    Known names (``STATSMODELS_SERIES``): ``"sunspots"`` and ``"nile"`` (yearly), ``"elnino"`` and
    ``"co2"`` (monthly), ``"macrodata"`` (quarterly US real GDP). ``"co2"`` has five months with no
    measurement: by default it raises, as any series with NaN does; pass
    ``nan_policy="interpolate"`` (or ``"drop"``, ``"keep"``).

    Args:
        name: the series' name.
        nan_policy: see ``clean_series``.

    Returns:
        A dataset with element spec ``TensorSpec((1,), float32)``, one element per time step, in
        time order; window it with ``series_windows``.

    Raises:
        ValueError: an unknown ``name`` or ``nan_policy``, or NaN with ``nan_policy="raise"``
            (``co2``).

    Example:
    >>> from seqrecipes import data
    >>> ds = data.statsmodels_series("nile")
    >>> int(ds.cardinality()), float(next(iter(ds))[0])
    (100, 1120.0)

    References:
        Seabold and Perktold, "statsmodels", 2010; the statsmodels datasets documentation.
    """
    return from_series(statsmodels_values(name), nan_policy=nan_policy, name=name)
