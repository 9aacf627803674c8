"""End to end on SmolLM2-135M: each scheme generates, a saved checkpoint reloads to identical logits, the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ratiocinator.models.compress import CompressionConfig, EoRAConfig, GEARConfig, WeightConfig

pytestmark = pytest.mark.slow

SMOLLM = "embedded:smollm2-135m-instruct"
PROMPT = [{"role": "user", "content": "Name three colours of the rainbow."}]
TINY_EORA = {"calibration_samples": 4, "calibration_len": 64, "batch_size": 2}
FIRST_TWO = ("model.layers.[2-9].*", "model.layers.[1-9][0-9].*")  # compress layers 0-1


def _load(cfg: CompressionConfig | None, spec: str = SMOLLM):
    from ratiocinator.models import load_backend

    return load_backend(spec, dtype="float32", compress=cfg)


@pytest.mark.parametrize(("cfg", "label", "count"), [
    (CompressionConfig(weights=WeightConfig(scheme="int8")), "int8", 30 * 7 + 1),
    (CompressionConfig(weights=WeightConfig(scheme="int4", group_size=64, head="same")), "int4-g64-headsame",
     30 * 7 + 1),
    (CompressionConfig(weights=WeightConfig(exclude=FIRST_TWO), eora=EoRAConfig(rank=16, method="svd")),
     "int4-g128+svd16", 2 * 7 + 1),
    (CompressionConfig(weights=WeightConfig(exclude=FIRST_TWO), eora=EoRAConfig(rank=16, **TINY_EORA)),
     "int4-g128+eora16", 2 * 7 + 1),
    (CompressionConfig(weights=WeightConfig(scheme="2:4", exclude=FIRST_TWO), eora=EoRAConfig(rank=16, **TINY_EORA)),
     "2:4-wanda+eora16", 2 * 7 + 1),
])
def test_each_weight_scheme_generates(cfg: CompressionConfig, label: str, count: int) -> None:
    from ratiocinator.models import SamplingParams
    from ratiocinator.models.compress.eora import LowRankLinear
    from ratiocinator.models.compress.pipeline import compressed_layers

    backend = _load(cfg)
    assert backend.info.compression == label
    layers = compressed_layers(backend.model)
    assert len(layers) == count, sorted(layers)
    if cfg.eora is not None:
        assert isinstance(layers["model.layers.0.self_attn.q_proj"], LowRankLinear)
    (out,) = backend.generate([PROMPT], SamplingParams(max_tokens=12))
    assert out.completion_tokens > 0 and out.text.strip()
    backend.close()


def test_gear_cache_decodes_left_padded_batches() -> None:
    from ratiocinator.models import SamplingParams
    from ratiocinator.models.compress.gear import GEARCache

    plain = _load(None)
    gear = _load(CompressionConfig(kv=GEARConfig(bits=4, streaming_gap=64, group_size=64)))
    assert isinstance(gear.new_cache(), GEARCache) and gear.info.compression == "gear-kv4"
    prompts = [PROMPT, [{"role": "user", "content": "Write a very long poem about the sea and its many moods."}]]
    params = SamplingParams(max_tokens=90)
    ref = plain.generate(prompts, params)
    got = gear.generate(prompts, params)
    for r, g in zip(ref, got, strict=True):
        assert g.completion_tokens > 0
        # no compression happens before the buffer holds 64 tokens: the outputs start identically
        assert g.text[:40] == r.text[:40]
    plain.close()
    gear.close()


def test_saved_checkpoint_reloads_to_identical_logits(tmp_path: Path) -> None:
    from ratiocinator.models.compress.checkpoint import save
    from ratiocinator.models.compress.pipeline import compress_model

    cfg = CompressionConfig(weights=WeightConfig(scheme="int4", group_size=64, exclude=FIRST_TWO),
                            eora=EoRAConfig(rank=8, method="svd"))
    backend = _load(None)
    compress_model(backend.model, backend.tokenizer, cfg, keep_codes=True)
    out = tmp_path / "ckpt"
    save(backend.model, backend.tokenizer, cfg, out)
    ids = torch.tensor([backend.encode("The quick brown fox jumps over the lazy dog.")])
    with torch.inference_mode():
        want = backend.model(input_ids=ids).logits
    loaded = _load(CompressionConfig.load(out), spec=f"hf:{out}")
    assert loaded.info.compression == "int4-g64+svd8"
    with torch.inference_mode():
        got = loaded.model(input_ids=ids).logits
    assert torch.equal(got, want)
    # Without `compress=` the checkpoint's own manifest is read: never randomly initialised linears.
    implicit = _load(None, spec=f"hf:{out}")
    assert implicit.info.compression == "int4-g64+svd8"
    with torch.inference_mode():
        assert torch.equal(implicit.model(input_ids=ids).logits, want)
    assert not torch.equal(want, _load(None).model(input_ids=ids).logits)  # compression did change the model


def test_compression_error_is_not_mistaken_for_a_corrupt_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    import ratiocinator.models.compress as compress_pkg
    from ratiocinator.models import catalog

    forced: list[bool] = []
    real_prepare = catalog.prepare

    def prepare(model, *, force: bool = False, **kw):
        forced.append(force)
        return real_prepare(model, force=force, **kw)

    def broken(backend, cfg):
        raise RuntimeError("kernel unavailable")

    monkeypatch.setattr(catalog, "prepare", prepare)
    monkeypatch.setattr(compress_pkg, "apply", broken)
    with pytest.raises(RuntimeError, match="kernel unavailable"):
        _load(CompressionConfig(weights=WeightConfig(scheme="int8")))
    assert forced == [False]  # the converted model was not thrown away and rebuilt


def test_compress_command(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ratiocinator.cli import app

    out = tmp_path / "int8"
    res = CliRunner().invoke(app, ["compress", SMOLLM, "--weights", "int4", "--dtype", "float32", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "ratiocinator-compression.json").is_file() and (out / "compressed.safetensors").is_file()
    size = sum(f.stat().st_size for f in out.iterdir())
    assert size < 0.5 * 4 * 135e6  # the float32 model is 540 MB; embeddings stay dense
    bad = CliRunner().invoke(app, ["compress", SMOLLM, "--weights", "int3", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "unknown scheme" in bad.output
    busy = CliRunner().invoke(app, ["compress", SMOLLM, "--out", str(out)])
    assert busy.exit_code == 2 and "not empty" in busy.output


def test_generate_command_takes_a_compression_spec() -> None:
    from typer.testing import CliRunner

    from ratiocinator.cli import app

    args = ["generate", "--model", SMOLLM, "--dtype", "float32", "--max-tokens", "6", "Say hello."]
    res = CliRunner().invoke(app, [*args, "--compress", "int8"])
    assert res.exit_code == 0, res.output
    assert res.stdout.strip()
    bad = CliRunner().invoke(app, [*args, "--compress", "int4+eoraX"])
    assert bad.exit_code == 2 and "cannot read 'eoraX'" in bad.output
