"""Linear discriminant analysis of binned activations against a binary outcome (ISF's
``data_base.analyze.LDA``, deprecated there in favour of ``simrun``'s reduced models).

``make_groups_equal_size`` needs numpy only; ``prediction_rates`` needs scikit-learn,
an optional extra (``pip install 'zdb[lda]'``); without it, it raises
:class:`~zdb.analyze.MissingDependencyError` saying so.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._common import AnalyzeError, require


def make_groups_equal_size(
    X: np.ndarray, y: np.ndarray, *, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A random subsample of ``X`` (samples x features) and its labels ``y`` (0 or 1)
    with as many samples of each class as the smaller class has: the samples of class
    1 first, then those of class 0. ``rng`` seeds the choice (default: numpy's global
    random state, as in ISF); the caller's arrays are not changed."""
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2 or len(X) != len(y):
        raise AnalyzeError(
            f"X must be 2-D with one row per label, got shapes {X.shape} and {y.shape}"
        )
    shuffle = np.random.shuffle if rng is None else np.random.default_rng(rng).shuffle
    X_true, X_false = X[y == 1], X[y == 0]  # boolean indexing copies
    shuffle(X_true)
    shuffle(X_false)
    n = min(len(X_true), len(X_false))
    X_out = np.concatenate([X_true[:n], X_false[:n]])
    y_out = np.concatenate([y[y == 1][:n], y[y == 0][:n]])
    return X_out, y_out


def prediction_rates(
    X_in: np.ndarray,
    y_in: np.ndarray,
    classifier: Any = None,
    n: int = 5,
    return_: str = "score",
    normalize_group_size: bool = True,
    verbosity: int = 0,
    test_size: float = 0.4,
    solver: str = "eigen",
    max_tries: int = 2,
) -> float | dict[str, Any]:
    """Fit scikit-learn's ``LinearDiscriminantAnalysis`` on ``n`` random train/test
    splits of ``X_in`` (samples x features) and ``y_in`` (0/1 labels). Returns the sum
    of the median rates of correct prediction of each class (``return_='score'``) or
    ISF's dictionary of every score, classifier and training class count
    (``return_='all'``). ``classifier`` must be None, as in ISF."""
    require("sklearn", "lda", "zdb.analyze.LDA.prediction_rates")
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    if classifier is not None:
        raise AnalyzeError("prediction_rates fits its own LDA classifier; pass classifier=None")
    if return_ not in ("score", "all"):
        raise AnalyzeError(f"return_ must be 'score' or 'all', got {return_!r}")
    X_in, y_in = np.asarray(X_in), np.asarray(y_in)
    scores: dict[str, list[Any]] = {
        name: []
        for name in (
            "score_all",
            "score_0",
            "score_1",
            "score_rocauc",
            "score_rocauc_full_data",
            "classifier_",
            "value_counts",
        )
    }
    tries = 0
    for seed in range(n):
        while True:
            X, y = make_groups_equal_size(X_in, y_in) if normalize_group_size else (X_in, y_in)
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, test_size=test_size, random_state=seed
            )
            lda = LinearDiscriminantAnalysis(n_components=1, shrinkage=None, solver=solver)
            try:
                lda.fit(X_train, y_train)
                break
            except ValueError as exc:  # a split with one class only: choose again
                tries += 1
                if tries > max_tries:
                    raise AnalyzeError(
                        f"no train/test split accepted by LDA after {max_tries} retries "
                        f"({exc}); give more samples of each class"
                    ) from exc
        projection = X_test @ lda.coef_.squeeze()
        scores["score_all"].append(lda.score(X_test, y_test))
        scores["score_1"].append(lda.score(X_test[y_test == 1], y_test[y_test == 1]))
        scores["score_0"].append(lda.score(X_test[y_test == 0], y_test[y_test == 0]))
        scores["score_rocauc"].append(roc_auc_score(y_test, projection))
        scores["score_rocauc_full_data"].append(roc_auc_score(y_in, X_in @ lda.coef_.squeeze()))
        scores["value_counts"].append(pd.Series(y_train).value_counts().to_dict())
        scores["classifier_"].append(lda)
    score = float(np.median(scores["score_1"]) + np.median(scores["score_0"]))
    if verbosity > 0:
        for name in ("score_all", "score_1", "score_0", "score_rocauc"):
            values = scores[name]
            print(f"{name}: max {max(values)} min {min(values)} mean {np.mean(values)}")
        print(f"score: {score}")
    if return_ == "all":
        return {**scores, "score": score}
    return score


lda_prediction_rates = prediction_rates
