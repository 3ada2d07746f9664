"""ISF's own data_base tests pass against zdb.

``test_isf_suite_passes_against_zdb`` runs ISF's ``tests/test_data_base`` (read from the
ISF checkout or git directory in ``ZDB_ISF_SOURCE``) with only the allowed rewrites
(:mod:`tests.isf.upstream.rewrites`) and asserts that every test passes except the
three that cannot apply (``NOT_APPLICABLE``). The other tests check the rewrites.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .upstream import (
    ENV,
    EXAMPLE_DATA,
    NOT_APPLICABLE,
    SUITE,
    SourceError,
    read_suite,
    run_suite,
    write_suite,
)
from .upstream.rewrites import REWRITES, example_data_rewrite, rewrite


def _apply(name: str, text: str) -> str:
    (step,) = [r for r in REWRITES if r.name == name]
    return step.apply("tests/test_data_base/x_test.py", text)


def test_data_base_imports_name_zdb_and_nothing_else_changes():
    text = (
        "from data_base.data_base import DataBase\n"
        "from data_base.db_initializers.prepare_ANN_batches \\\n    import onehot\n"
        "import config, data_base\n"
        "    from data_base.IO.LoaderDumper import numpy_to_zarr\n"
        "from data_base.data_base_register import DataBaseRegister\n"
        "x = data_base.DataBase(p)  # data_base\n"
        "from my_data_base import y\n"
    )
    assert _apply("data_base_to_zdb", text) == (
        "from zdb.data_base import DataBase\n"
        "from zdb.db_initializers.prepare_ANN_batches \\\n    import onehot\n"
        "import config, zdb\n"
        "    from zdb.IO.LoaderDumper import numpy_to_zarr\n"
        "from zdb.data_base_register import DataBaseRegister\n"
        "x = data_base.DataBase(p)  # data_base\n"
        "from my_data_base import y\n"
    )


def test_pandas_util_testing_becomes_pandas_testing():
    text = "from pandas.util.testing import assert_frame_equal\npd.util.testing.assert_x(a)\n"
    assert _apply("pandas_testing", text) == (
        "from pandas.testing import assert_frame_equal\npd.testing.assert_x(a)\n"
    )


def test_np_NaN_becomes_np_nan_but_not_other_names():
    assert _apply("np_nan", "[np.NaN, 1, np.NaNx, xnp.NaN]") == "[np.nan, 1, np.NaNx, xnp.NaN]"


def test_setting_divisions_becomes_clear_divisions():
    text = "    ddf.divisions = tuple([None] * (ddf.npartitions + 1))\nx = ddf.divisions\n"
    assert _apply("clear_divisions", text) == "    ddf = ddf.clear_divisions()\nx = ddf.divisions\n"


def test_leaked_names_are_imported_after_the_star_import_only_where_used():
    text = "from zdb.utils import *\nimport numpy as np\ns = pd.Series()\n"
    assert _apply("leaked_names", text) == (
        "from zdb.utils import *\nimport pandas as pd\nimport numpy as np\ns = pd.Series()\n"
    )
    unused = "from zdb.utils import *\nx = cache\n"
    assert _apply("leaked_names", unused) == unused
    no_star = "from zdb.utils import cache\ns = pd.Series()\n"
    assert _apply("leaked_names", no_star) == no_star


def test_example_data_path_points_at_the_shared_copy():
    text = "p = os.path.join(\n    getting_started.parent, \n    'example_data', \n    'sim')\n"
    step = example_data_rewrite("/shared/isf_example")
    assert step.apply("tests/test_data_base/__init__.py", text) == (
        "p = os.path.join(\n    '/shared/isf_example', \n    'sim')\n"
    )


def test_rewrite_applies_every_step():
    text = "from data_base.utils import *\nx = [np.NaN, pd.util.testing]\n"
    assert rewrite("a_test.py", text, "/x") == (
        "from zdb.utils import *\nimport pandas as pd\nx = [np.nan, pd.testing]\n"
    )


def _source() -> Path:
    value = os.environ.get(ENV)
    if not value:
        pytest.skip(f"{ENV} is not set: it names an ISF checkout or git directory")
    if not Path(value).exists():
        pytest.skip(f"{ENV}={value} does not exist")
    if not EXAMPLE_DATA.is_dir():
        pytest.skip(f"the ISF example data is not at {EXAMPLE_DATA} (../shared)")
    return Path(value)


def test_isf_suite_passes_against_zdb(tmp_path):
    files = read_suite(_source())
    assert f"{SUITE}/data_base_test.py" in files
    write_suite(files, tmp_path)
    outcome = run_suite(tmp_path)
    problems = {**outcome.failed, **{t: f"skipped: {why}" for t, why in outcome.skipped.items()}}
    report = "\n".join(f"{test}: {why}" for test, why in sorted(problems.items()))
    assert outcome.passed, f"no ISF test ran:\n{outcome.output[-3000:]}"
    assert not problems, f"{len(problems)} of ISF's tests do not pass:\n{report}"
    assert outcome.deselected == len(NOT_APPLICABLE), outcome.output[-3000:]


def test_the_suite_is_read_from_a_checkout_with_the_helpers_it_imports(tmp_path):
    for name in ("tests/test_data_base/a_test.py", "tests/test_data_base/sub/__init__.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"# {name}\n")
    helper = tmp_path / "tests/test_simrun/reduced_model/get_kernel_test.py"
    helper.parent.mkdir(parents=True)
    helper.write_text("# helper\n")
    (tmp_path / "tests/test_simrun/other_test.py").write_text("# not read\n")
    assert read_suite(tmp_path) == {
        "tests/test_data_base/a_test.py": "# tests/test_data_base/a_test.py\n",
        "tests/test_data_base/sub/__init__.py": "# tests/test_data_base/sub/__init__.py\n",
        "tests/test_simrun/reduced_model/get_kernel_test.py": "# helper\n",
    }


def test_a_source_without_the_suite_is_an_error_naming_it(tmp_path):
    with pytest.raises(SourceError, match="neither an ISF checkout"):
        read_suite(tmp_path)
