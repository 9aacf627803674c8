"""CompressionConfig: composition rules, the short spec parser (inverse of describe), manifest errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ratiocinator.errors import InvalidInput
from ratiocinator.models.compress import CompressionConfig, EoRAConfig, GEARConfig, WeightConfig


@pytest.mark.parametrize("spec", ["int4-g128", "int4-g64-sym+eora64+gear-kv2", "2:4-magnitude+svd16", "gear-kv4",
                                  "int8-headnone", "int4-g32-headsame+eora16"])
def test_parse_is_the_inverse_of_describe(spec: str) -> None:
    cfg = CompressionConfig.parse(spec)
    assert cfg.describe() == spec
    assert CompressionConfig.parse(cfg.describe()) == cfg


def test_parse_builds_the_configs() -> None:
    cfg = CompressionConfig.parse("int4-g64+eora32+gear-kv2")
    assert cfg.weights == WeightConfig(scheme="int4", group_size=64)
    assert cfg.eora == EoRAConfig(rank=32)
    assert cfg.kv == GEARConfig(bits=2)


@pytest.mark.parametrize(("spec", "message"), [
    ("", "empty"), ("int3", "unknown scheme"), ("int4+foo", "cannot read 'foo'"), ("int4-x", "unknown option"),
    ("eora64", "EoRA compensates"), ("gear-kv3", "bits"),
])
def test_bad_specs_are_rejected(spec: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        CompressionConfig.parse(spec)


def test_load_refuses_a_plain_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not a compressed checkpoint"):
        CompressionConfig.load(tmp_path)


def test_from_options_matches_the_command_line_defaults() -> None:
    cfg = CompressionConfig.from_options(weights="int4", eora_rank=64)
    assert cfg.describe() == "int4-g128+eora64"
    assert CompressionConfig.from_options(weights="int8", kv_bits=4).describe() == "int8+gear-kv4"
