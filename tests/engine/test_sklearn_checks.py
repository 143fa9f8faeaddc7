"""scikit-learn's own conformance suite on every estimator of both packages.

Each check of ``sklearn.utils.estimator_checks`` runs against each package's estimators,
built with the parameters scikit-learn's own test suite gives its ``KMeans``. The only
failures allowed are those scikit-learn marks expected for its own estimator of the same
name: those are marked ``xfail`` (run, and allowed to fail, as scikit-learn does).
"""

import inspect
import warnings

import pytest

from kmeans_tutorial.engine import BaseKMeans

estimator_checks = pytest.importorskip("sklearn.utils.estimator_checks")
sklearn_cluster = pytest.importorskip("sklearn.cluster")
instance_generator = pytest.importorskip("sklearn.utils._test_common.instance_generator")


def params_of(cls) -> dict:
    """scikit-learn's own test parameters for its estimator of this name
    (``instance_generator.INIT_PARAMS``): small and quick."""
    return instance_generator.INIT_PARAMS[getattr(sklearn_cluster, cls.__name__)]


def estimator_classes(package) -> list[type]:
    """Every estimator class a package exports."""
    exported = (getattr(package, name) for name in package.__all__)
    return [obj for obj in exported if inspect.isclass(obj) and issubclass(obj, BaseKMeans)]


def expected_failures(cls) -> dict[str, str]:
    """What scikit-learn marks expected-to-fail for its own estimator of this name."""
    theirs = getattr(sklearn_cluster, cls.__name__)(**params_of(cls))
    return instance_generator._get_expected_failed_checks(theirs)


def checks_of(estimator) -> dict[str, object]:
    """scikit-learn's checks for ``estimator``, by name."""
    with warnings.catch_warnings():
        # Inheriting scikit-learn's BaseEstimator would make it a runtime dependency; the
        # parameter protocol it would give is implemented in BaseKMeans instead.
        warnings.filterwarnings("ignore", "Estimator .* does not inherit from `sklearn.base")
        generated = list(estimator_checks.estimator_checks_generator(estimator, legacy=True))
    checks = {}
    for _, check in generated:
        name = check.func.__name__ if hasattr(check, "func") else check.__name__
        checks[name] = check
    return checks


def test_every_estimator_is_checked(tf1, tf2):
    """Both packages export the same estimator classes, and each runs every check."""
    names = [cls.__name__ for cls in estimator_classes(tf1)]
    assert names == [cls.__name__ for cls in estimator_classes(tf2)]
    assert set(names) == set(CLASS_NAMES)
    assert len(CHECK_NAMES) > 40


def _names():
    import tf2_eager

    classes = [cls.__name__ for cls in estimator_classes(tf2_eager)]
    checks = sorted(
        set().union(*(checks_of(cls(**params_of(cls))) for cls in estimator_classes(tf2_eager)))
    )
    return classes, checks


CLASS_NAMES, CHECK_NAMES = _names()


@pytest.mark.parametrize("check_name", CHECK_NAMES)
@pytest.mark.parametrize("class_name", CLASS_NAMES)
def test_scikit_learn_check(impl, class_name, check_name, request):
    cls = getattr(impl, class_name)
    expected = expected_failures(cls)
    if check_name in expected:
        reason = f"scikit-learn expects its own {class_name} to fail: {expected[check_name]}"
        request.applymarker(pytest.mark.xfail(reason=reason, strict=False))
    estimator = cls(**params_of(cls))
    checks = checks_of(estimator)
    if check_name not in checks:
        pytest.skip(f"scikit-learn has no {check_name} for a {class_name}")
    checks[check_name](estimator)
