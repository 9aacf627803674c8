"""The calibration text that ships in the package: used when no data folder is found, enough for the default EoRA run."""

from __future__ import annotations

import json

import pytest

from ratiocinator import datadirs
from ratiocinator.models.compress import data
from ratiocinator.models.compress.config import EoRAConfig


class FourCharTokens:
    """A stand-in tokenizer: one token per 4 characters (the models' BPE gives 3.3-3.8 on this text, so fewer than they do)."""

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
        return {"input_ids": [ord(text[i]) for i in range(0, len(text), 4)]}


@pytest.fixture
def no_team_data(tmp_path, monkeypatch):
    """Only an empty folder and the package's own data/ are data roots (a wheel install, a clone on its own)."""
    monkeypatch.setattr(datadirs, "data_roots", lambda: [tmp_path, datadirs.PACKAGED])
    return tmp_path


def test_without_a_data_folder_the_package_text_is_read(no_team_data):
    assert data.data_root() == datadirs.PACKAGED
    for domain in ("english", "code"):
        calibration = data.documents("calibration", domain)
        evaluation = data.documents("evaluation", domain)
        assert calibration and evaluation and not set(calibration) & set(evaluation)


def test_the_default_eora_calibration_fits_in_the_shipped_text(no_team_data):
    cfg = EoRAConfig()
    windows = data.token_windows(FourCharTokens(), split="calibration", n=cfg.calibration_samples,
                                 seq_len=cfg.calibration_len, domain=cfg.domain)
    assert tuple(windows.shape) == (cfg.calibration_samples, cfg.calibration_len)


def test_a_team_data_folder_wins_over_the_shipped_text(tmp_path, monkeypatch):
    (tmp_path / "code" / "humaneval").mkdir(parents=True)
    record = {"prompt": "def f():\n", "canonical_solution": "    return 1\n"}
    (tmp_path / "code" / "humaneval" / "problems.jsonl").write_text(json.dumps(record) + "\n")
    monkeypatch.setattr(datadirs, "data_roots", lambda: [tmp_path, datadirs.PACKAGED])
    assert data.data_root() == tmp_path
    texts = data.documents("calibration", "code") + data.documents("evaluation", "code")
    assert texts == ["def f():\n    return 1\n"]
