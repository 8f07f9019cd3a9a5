"""Gold built once on the session's small sandbox, for the notebooks and the run summary to read (tests that
change it work on a copy)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jobs.gold.build import build
from jobs.settings import GoldSettings, load_settings

#: every cell of the small sandbox holds a company or two: publish them all, so there is something to look at
OPEN = GoldSettings(min_contributors=1, max_share=1.0)


@pytest.fixture(scope="package")
def published(spark, silver, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("published") / "warehouse"
    shutil.copytree(silver.folder, folder)
    build(spark, load_settings("local", warehouse=str(folder)).model_copy(update={"gold": OPEN}))
    return folder
