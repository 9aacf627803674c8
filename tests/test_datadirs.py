"""Tests of the one data resolver: the environment first, then shared/data beside the checkout; errors say where it looked."""

from __future__ import annotations

import pytest

from ratiocinator import datadirs
from ratiocinator.errors import InvalidInput


def test_the_environment_comes_first_and_a_sub_folder_is_found(tmp_path, monkeypatch):
    (tmp_path / "planning").mkdir()
    monkeypatch.setenv("RATIOCINATOR_DATA", str(tmp_path))
    assert datadirs.data_roots()[0] == tmp_path
    assert datadirs.find("planning") == tmp_path.resolve()
    assert tmp_path / "planning" in datadirs.existing("planning")


def test_a_missing_sub_folder_names_every_place_looked_in(tmp_path, monkeypatch):
    monkeypatch.setenv("RATIOCINATOR_DATA", str(tmp_path))
    with pytest.raises(InvalidInput, match=rf"no-such/.*Looked in: {tmp_path}") as err:
        datadirs.find("no-such", who="bench")
    assert "$RATIOCINATOR_DATA" in str(err.value) and str(err.value).startswith("bench needs")


def test_an_explicit_data_dir_must_hold_the_sub_folder(tmp_path):
    with pytest.raises(InvalidInput, match=r"--data-dir .*: bench reads planning/"):
        datadirs.find("planning", tmp_path, who="bench")
    (tmp_path / "planning").mkdir()
    assert datadirs.find("planning", tmp_path) == tmp_path.resolve()


def test_every_layer_resolves_data_through_the_one_resolver(tmp_path, monkeypatch):
    from ratiocinator.agents.llmp.domain import planning_data_dirs
    from ratiocinator.evals.benchmark import default_data_dirs

    monkeypatch.setenv("RATIOCINATOR_DATA", str(tmp_path))
    assert default_data_dirs() == datadirs.data_roots()
    assert planning_data_dirs()[0] == tmp_path / "planning"
