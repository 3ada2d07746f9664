"""ISF's ``ReducedLdaModel`` (``simrun.reduced_model.get_kernel``) as its fitted state.

A reduced model maps the synaptic input of a trial to a spike probability: each fitted
classifier gives a kernel per synapse group (``kernel_dict``); the dot product of a
trial's activations with the kernels is its *lda value*, and a lookup series maps
rounded lda values to the fraction of training trials with a spike in the output
window. :class:`ReducedLdaModel` holds that state as ISF's class does, attribute by
attribute, and has ISF's methods: ``fit`` (on databases holding activation arrays and
``spike_times``; scikit-learn fits the classifiers), ``apply_static``, ``plot``, ...
Only ``get_minimodel_rolling`` needs ISF (it hands the model to ISF's
``spiking_output``).

Where ISF fails, these do what its users expect (each said where it happens): a lookup
series of one bin, or one whose last bin ISF's 30 % margin does not reach, keeps its
bins; lda values below the lookup series are clipped to it (ISF compared them with the
lowest probability and raised KeyError); ``plot`` labels both y axes.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..exceptions import DataBaseException

if TYPE_CHECKING:  # pandas costs 300 ms to import, and `import zdb` imports this module
    import pandas as pd


class ReducedModelError(DataBaseException, ValueError):
    """A reduced model cannot compute what was asked (no trials left, no such model)."""


#: the message of ISF's warning when lda values leave the lookup series
OUT_OF_RANGE = "lda values leave range of training data by more than 30%!"


def spike_in_interval(st: pd.DataFrame, tmin: float, tmax: float) -> pd.Series:
    """For each trial (row of spike times ``st``, NaN for none): a spike in [tmin, tmax)?"""
    return ((st >= tmin) & (st < tmax)).any(axis=1)


def interpolate_lookup_series(lookup_series: pd.Series) -> pd.Series:
    """The lookup series on every integer from 30 % of its range below its first bin to
    30 % above its last (truncated towards zero, as ISF does), linearly interpolated
    between bins, 0 at the first point unless a bin is there, and flat after the last bin.

    ISF's range ends before the last bin when the range is 3 or less (or one bin), and
    then fails; here it always reaches it."""
    if len(lookup_series) == 0:
        raise ReducedModelError("no lda values to make a lookup series of (no trials left)")
    low, high = min(lookup_series.index), max(lookup_series.index)
    diff = high - low
    start = min(int(low - 0.3 * diff), int(low))
    stop = max(int(high + 0.3 * diff), int(high) + 1)
    import pandas as pd

    full = pd.Series(np.nan, index=np.arange(start, stop, 1))
    full.iloc[0] = 0
    full.loc[lookup_series.index] = lookup_series.to_numpy(dtype=float)
    return full.interpolate(method="linear")


def get_lookup_series_from_lda_values_spike_data(
    lda_values: Any,
    spike: Any,
    spike_before: Any = None,
    lookup_series_stepsize: int = 3,
) -> pd.Series:
    """The spike probability as a function of the lda value: trials are binned by their
    lda value rounded to a multiple of ``lookup_series_stepsize`` (halves to even), each
    bin's probability is the fraction of its trials with ``spike``, and the bins are
    interpolated (:func:`interpolate_lookup_series`). Trials with ``spike_before`` (a
    spike in the refractory period) are left out."""
    lda = np.asarray(lda_values)
    spiked = np.asarray(spike, dtype=bool)
    if spike_before is not None:
        keep = ~np.asarray(spike_before, dtype=bool)
        lda, spiked = lda[keep], spiked[keep]
    bins = np.round(lda / lookup_series_stepsize).astype(int) * lookup_series_stepsize
    import pandas as pd

    groups = pd.Series(spiked).groupby(bins)
    fraction = groups.sum() / groups.count().astype(float)
    return interpolate_lookup_series(fraction)


#: the length ISF scales each classifier's coefficients to ("the normalization that was
#: present at the timepoint of development")
KERNEL_NORM = 7.260991424242837


def concatenate_return_boundaries(
    values: Sequence[np.ndarray], axis: int = 0
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The arrays concatenated along ``axis``, and the ``(start, stop)`` of each in it."""
    stops = np.cumsum([v.shape[axis] for v in values]).tolist()
    return np.concatenate(values, axis=axis), list(zip([0, *stops[:-1]], stops, strict=True))


def compare_lists_by_none_values(l1: Sequence[Any], l2: Sequence[Any]) -> bool:
    """Whether the two lists hold None at the same positions (of the shorter one)."""
    return all((x is None) == (y is None) for x, y in zip(l1, l2, strict=False))


def _kernel_preprocess_data(
    db_list: Sequence[Any],
    keys: Sequence[str],
    window_min: int | None,
    window_max: int | None,
    output_window_min: float,
    output_window_max: float,
    aggfun: Any = None,
) -> tuple[np.ndarray, dict[Any, tuple[int, int]], np.ndarray, pd.DataFrame]:
    """The activations of all databases (trials x concatenated keys), where each key's
    columns are, whether each trial spikes in the output window, and the spike times."""
    import pandas as pd

    Xs, ys, sts = [], [], []
    locations: Sequence[Any] = list(keys)
    boundaries: list[tuple[int, int]] = []
    for db in db_list:
        st = db["spike_times"]
        values = {k: np.asarray(db[k])[:, window_min:window_max] for k in keys}
        if aggfun is None:
            arrays = [values[k] for k in keys]
        else:
            locations, arrays = aggfun(values)
        X, boundaries = concatenate_return_boundaries(arrays, axis=1)
        Xs.append(X)
        ys.append(np.asarray(spike_in_interval(st, output_window_min, output_window_max)))
        sts.append(st)
    if not Xs:
        raise ReducedModelError("fit needs at least one database in db_list")
    location_map = dict(zip(locations, boundaries, strict=True))
    return np.concatenate(Xs), location_map, np.concatenate(ys), pd.concat(sts)


class ReducedLdaModelResult:
    """What a static reduced model computes for a set of trials: the lda values per
    synapse group (``lda_dict``), their sum (``lda_values``) and the spike probability
    of each trial (``p_spike``, indexed by the rounded lda value). ``RM`` is None, as
    in ISF, so that results travel between processes without the model."""

    def __init__(self, RM: Any, lda_dict: dict, lda_values: Any, p_spike: pd.Series) -> None:
        self.RM = RM
        self.lda_dict = lda_dict
        self.lda_values = lda_values
        self.p_spike = p_spike

    def __repr__(self) -> str:
        return f"<ReducedLdaModelResult of {len(self.p_spike)} trials>"


def apply_static_model(
    lookup_series: pd.Series,
    min_index: int | None,
    max_index: int | None,
    kernel_dict: Mapping[Any, np.ndarray],
    data: Any,
) -> ReducedLdaModelResult:
    """Apply one static model to ``data`` ({group: activations (trial, time bin)}, or a
    database holding those keys): the columns ``min_index:max_index`` of each group's
    activations dotted with its kernel, summed, rounded, and looked up. Values outside
    the lookup series are clipped to its ends, with a warning."""
    lda_dict = {
        k: np.dot(data[k][:, min_index:max_index], kernel) for k, kernel in kernel_dict.items()
    }
    lda_values = sum(lda_dict.values())
    indices = np.asarray(lda_values).round().astype(int)
    top, bottom = max(lookup_series.index), min(lookup_series.index)
    if indices.size and (indices.max() > top or indices.min() < bottom):
        warnings.warn(OUT_OF_RANGE, stacklevel=2)
        indices = np.clip(indices, bottom, top)
    return ReducedLdaModelResult(None, lda_dict, lda_values, lookup_series.loc[indices])


class ClassifierRecord:
    """A fitted classifier read without scikit-learn: its class (``class_path``), its
    parameters (``get_params()``) and its fitted arrays as attributes (``coef_``,
    ``intercept_``, ``classes_``, ``means_``, ...), as the classifier had them."""

    def __init__(self, class_path: str, params: dict[str, Any], fitted: dict[str, Any]) -> None:
        self.class_path = class_path
        self.params = dict(params)
        for name, value in fitted.items():
            setattr(self, name, value)

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        """The classifier's parameters, as scikit-learn's ``get_params`` gives them."""
        return dict(self.params)

    def fitted(self) -> dict[str, Any]:
        """The fitted attributes by name."""
        return {k: v for k, v in vars(self).items() if k not in ("class_path", "params")}

    def __repr__(self) -> str:
        return f"<ClassifierRecord of {self.class_path.rpartition('.')[2]}({self.params})>"


class ReducedLdaModel:
    """ISF's ``ReducedLdaModel``: fitted with :meth:`fit`, or given back for a stored
    model (``db[key]``).

    The constructor takes ISF's arguments and settles the synapse activation window as
    ISF does; the fitted attributes (``db_list``, ``st``, ``y``, ``spike_before``,
    ``clfs``, ``kernel_dict``, ``lda_value_dicts``, ``lda_values``,
    ``lookup_series``) are set by :meth:`fit` or by the reader of a stored model.
    ``cache`` is accepted for ISF's signature and not used: these methods are cheap.
    """

    #: the fitted state, as ISF's ``fit`` sets it
    db_list: list[Any]
    st: pd.DataFrame | None
    y: np.ndarray
    spike_before: np.ndarray
    clfs: dict[str, Any]
    kernel_dict: list[dict[Any, np.ndarray]]
    lda_value_dicts: list[dict[Any, np.ndarray]]
    lda_values: list[np.ndarray]
    lookup_series: list[pd.Series]

    def __init__(
        self,
        keys_to_synapse_activation_data: Sequence[str],
        synapse_activation_window_width: int | None = 80,
        synapse_activation_window_min: int | None = None,
        synapse_activation_window_max: int | None = None,
        output_window_min: int = 255,
        output_window_max: int = 265,
        refractory_period: int = 0,
        normalize_group_size: bool = True,
        test_size: float = 0.4,
        verbosity: int = 2,
        lookup_series_stepsize: int = 5,
        cache: bool = True,
        aggfun: Any = None,
    ) -> None:
        self.synapse_activation_window_width = synapse_activation_window_width
        self.synapse_activation_window_min = synapse_activation_window_min
        self.synapse_activation_window_max = synapse_activation_window_max
        self.output_window_min = output_window_min
        self.output_window_max = output_window_max
        self._settle_window()
        self.keys_to_synapse_activation_data = keys_to_synapse_activation_data
        self.refractory_period = refractory_period
        self.normalize_group_size = normalize_group_size
        self.test_size = test_size
        self.verbosity = verbosity
        self.lookup_series_stepsize = lookup_series_stepsize
        self.aggfun = aggfun

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> ReducedLdaModel:
        """A model holding ``state`` (attribute name -> value) as it is, without the
        constructor's checks: a stored model comes back exactly as it was."""
        model = cls.__new__(cls)
        for name, value in state.items():
            setattr(model, name, value)
        return model

    def _settle_window(self) -> None:
        """Fill in the synapse activation window from the two of min, max and width that
        are given (max defaults to the end of the output window), as ISF does."""
        low = self.synapse_activation_window_min
        high = self.synapse_activation_window_max
        width = self.synapse_activation_window_width
        if low is not None and high is not None:
            if width is not None and width != high - low:
                raise ReducedModelError(
                    f"synapse_activation_window_width {width} is not "
                    f"synapse_activation_window_max - synapse_activation_window_min "
                    f"({high} - {low}); give two of the three"
                )
        elif low is None and high is None and width is not None:
            self.synapse_activation_window_max = self.output_window_max
            self.synapse_activation_window_min = self.output_window_max - width
        elif low is not None and high is None and width is not None:
            self.synapse_activation_window_max = low + width
        else:
            raise ReducedModelError(
                "synapse_activation_window not sufficiently defined: give "
                "synapse_activation_window_width, with or without "
                "synapse_activation_window_min, or both min and max"
            )

    def fit(self, db_list: Sequence[Any], clfs: dict[str, Any] | None = None) -> None:
        """Fit the model on the databases ``db_list``, as ISF's ``fit``: per database, the
        synapse activations ``db[key][:, window_min:window_max]`` of the keys (or what
        ``aggfun`` makes of them) against a spike in the output window of
        ``db['spike_times']``; trials with a spike in the refractory period before the
        output window are left out. ``clfs`` (ISF's ``prediction_rates(...,
        return_='all')`` dictionary) is used instead of fitting when given; its
        classifiers' coefficients are scaled to ISF's length 7.26, as in ISF.
        Fitting needs scikit-learn (``zdb[lda]``)."""
        X, boundaries, y, st = _kernel_preprocess_data(
            db_list,
            self.keys_to_synapse_activation_data,
            self.synapse_activation_window_min,
            self.synapse_activation_window_max,
            self.output_window_min,
            self.output_window_max,
            aggfun=self.aggfun,
        )
        self.db_list, self.y, self.st = list(db_list), y, st
        self.spike_before = spike_in_interval(
            st, self.output_window_min - self.refractory_period, self.output_window_min
        ).to_numpy()
        if clfs is None:
            from ..analyze.LDA import prediction_rates

            clfs = cast(  # return_="all" returns ISF's dictionary
                dict[str, Any],
                prediction_rates(
                    X[~self.spike_before],
                    y[~self.spike_before],
                    verbosity=self.verbosity,
                    return_="all",
                    normalize_group_size=self.normalize_group_size,
                    test_size=self.test_size,
                ),
            )
        self.clfs = clfs
        for clf in clfs["classifier_"]:
            clf.coef_[0] = clf.coef_[0] * (KERNEL_NORM / np.sqrt(np.sum(clf.coef_[0] ** 2)))
        self.kernel_dict = [
            {key: clf.coef_[0].squeeze()[lo:hi] for key, (lo, hi) in boundaries.items()}
            for clf in clfs["classifier_"]
        ]
        self.lda_value_dicts, self.lookup_series, self.lda_values = [], [], []
        for kernels in self.kernel_dict:
            per_key = {key: X[:, lo:hi] @ kernels[key] for key, (lo, hi) in boundaries.items()}
            lda_values = sum(per_key.values())
            self.lda_value_dicts.append(per_key)
            self.lda_values.append(lda_values)
            self.lookup_series.append(
                get_lookup_series_from_lda_values_spike_data(
                    lda_values,
                    y,
                    lookup_series_stepsize=self.lookup_series_stepsize,
                    spike_before=self.spike_before,
                )
            )

    def _model(self, model_number: int) -> int:
        count = len(self.kernel_dict)
        if not -count <= model_number < count:
            raise ReducedModelError(
                f"this reduced model has {count} fitted models; model_number must be "
                f"below {count}, not {model_number}"
            )
        return model_number

    def get_lookup_series_for_different_refractory_period(
        self, refractory_period: float
    ) -> list[pd.Series]:
        """One lookup series per fitted model, leaving out the trials with a spike in the
        ``refractory_period`` before the output window (instead of the model's own)."""
        spiked_before = spike_in_interval(
            self.st, self.output_window_min - refractory_period, self.output_window_min
        ).to_numpy()
        return [
            get_lookup_series_from_lda_values_spike_data(
                self.lda_values[number],
                self.y,
                lookup_series_stepsize=self.lookup_series_stepsize,
                spike_before=spiked_before,
            )
            for number in range(len(self.kernel_dict))
        ]

    def get_minimodel_static(self, model_number: int = 0) -> functools.partial:
        """The static model ``model_number`` as a function of the data ({group:
        activations (trial, time bin)} or a database) to a :class:`ReducedLdaModelResult`:
        a partial of a module-level function, which pickles small and fast."""
        number = self._model(model_number)
        return functools.partial(
            apply_static_model,
            self.lookup_series[number],
            self.synapse_activation_window_min,
            self.synapse_activation_window_max,
            self.kernel_dict[number],
        )

    def apply_static(self, DATA_DICT: Any, model_number: int = 0) -> ReducedLdaModelResult:  # noqa: N803 - ISF's name
        """Apply the static model ``model_number`` to ``DATA_DICT``."""
        return self.get_minimodel_static(model_number)(DATA_DICT)

    def get_minimodel_rolling(self, refractory_period: float = 0, model_number: int = 0) -> Any:
        """ISF's rolling model of model ``model_number`` with the lookup series of
        ``refractory_period``, made by ISF's ``simrun.reduced_model.spiking_output``
        (which zdb does not reimplement): needs ISF."""
        number = self._model(model_number)
        try:
            from simrun.reduced_model import spiking_output
        except ImportError as e:
            raise ReducedModelError(
                f"get_minimodel_rolling needs ISF's simrun.reduced_model.spiking_output, which "
                f"cannot be imported here ({e}); use it where ISF is installed"
            ) from None
        lookup = self.get_lookup_series_for_different_refractory_period(refractory_period)
        return spiking_output.get_reduced_model(
            self.kernel_dict[number],
            {refractory_period: lookup[number]},
            refractory_period,
            combine_fun=sum,
            LUT_resolution=1,
        )

    def plot(self, return_fig: bool = False, min_items: int = 0) -> Any:
        """Two figures, as ISF draws them: the kernels of every model (one line per
        synapse group) and the lookup series with the number of trials per lda value
        (on a second y axis); with ``min_items``, the lookup series is drawn dark only
        where a value holds more than that many trials. Needs matplotlib."""
        figures = plot_kernels(self.kernel_dict), plot_lookup_series(self, min_items)
        return figures if return_fig else None

    def __repr__(self) -> str:
        models = len(getattr(self, "kernel_dict", []) or [])
        return (
            f"<zdb ReducedLdaModel of {models} fitted models on "
            f"{list(self.keys_to_synapse_activation_data)}, output window "
            f"[{self.output_window_min}, {self.output_window_max})>"
        )


def _figure() -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(15, 3), dpi=300)
    return fig, fig.add_subplot(111)


def plot_kernels(kernel_dict: Sequence[Mapping[Any, np.ndarray]]) -> Any:
    """A figure of the kernels: one line per synapse group and model, the colours
    starting again for each model, the groups named in the legend."""
    fig, ax = _figure()
    ax.set_title("kernel shape")
    ax.set_xlabel("# time bin")
    for number, kernels in enumerate(kernel_dict):
        ax.set_prop_cycle(None)
        for group, kernel in kernels.items():
            ax.plot(kernel, label=str(group) if number == 0 else None)
    if kernel_dict:
        ax.legend()
    return fig


def plot_lookup_series(model: ReducedLdaModel, min_items: int = 0) -> Any:
    """A figure of each model's lookup series (light blue; dark blue where an lda value
    holds more than ``min_items`` trials) over the number of trials per rounded lda
    value (green, right axis)."""
    import pandas as pd

    fig, ax = _figure()
    counts_ax = ax.twinx()
    for number, lookup in enumerate(model.lookup_series):
        counts = pd.Series(model.lda_values[number]).round().astype(int).value_counts().sort_index()
        counts_ax.plot(counts.index, counts.to_numpy(), color="g")
        ax.plot(lookup.index, lookup.to_numpy(), color="lightblue")
        if min_items:
            kept = counts[counts > min_items].index
            lookup = lookup[(lookup.index <= max(kept)) & (lookup.index >= min(kept))]
        ax.plot(lookup.index, lookup.to_numpy(), color="b")
    ax.set_title(
        f"probability of spike in interval [{model.output_window_min}:"
        f"{model.output_window_max}] depending on lda_value\n"
        f"refractory_period = {model.refractory_period}"
    )
    ax.set_xlabel("lda_value")
    ax.set_ylabel("p_spike")
    counts_ax.set_ylabel("# datapoints")
    return fig
