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


def test_benchmarks_read_the_package_data_only_for_a_set_it_ships_whole(tmp_path, monkeypatch):
    """planning-gold never reads the package's planning domains (they hold no problems); pursuit-20q ships whole."""
    from ratiocinator.evals.benchmark import get, resolve_data_dir

    monkeypatch.setattr(datadirs, "data_roots", lambda: [tmp_path, datadirs.PACKAGED])
    assert (datadirs.PACKAGED / "planning" / "blocksworld" / "domain.pddl").is_file()
    for name in ("planning-gold", "planning", "pursuit-mediq"):
        with pytest.raises(InvalidInput, match=r"pass --data-dir DIR .* or set \$RATIOCINATOR_DATA"):
            resolve_data_dir(get(name), None)
    assert resolve_data_dir(get("pursuit-20q"), None) == datadirs.PACKAGED.resolve()
    assert datadirs.holding("pursuit/20q/classes20.txt") == datadirs.PACKAGED
    (tmp_path / "pursuit" / "20q").mkdir(parents=True)  # the team's copy wins
    assert resolve_data_dir(get("pursuit-20q"), None) == tmp_path.resolve()
    assert datadirs.holding("planning/blocksworld/p01.pddl") is None
    assert "$RATIOCINATOR_DATA" in datadirs.missing("planning/blocksworld/p01.pddl")
