"""EoRA for a GGUF (models/compress/gguf_lora.py): the factors fix the file's own quantization error, the adapter
file is what llama.cpp reads, and files of other models or layouts are refused. Tiny random models, written
to GGUF here with gguf-py's quantizers; the real engine's use of the adapter is in tests/models/test_llamacpp.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("gguf")
from gguf import GGMLQuantizationType, GGUFReader, GGUFWriter
from gguf.quants import quantize

from ratiocinator.errors import InvalidInput, UnsupportedFeature
from ratiocinator.models.compress.config import EoRAConfig
from ratiocinator.models.compress.gguf_lora import (
    GGUF_LINEARS,
    GGUFCompression,
    rotary_rows,
    write_eora_adapter,
)


class _Chars:
    """A tokenizer of characters: enough for the calibration windows."""

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [ord(c) % 250 for c in text]}


def _tiny(arch: str):
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    kw = dict(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128)
    model = (Qwen2ForCausalLM(Qwen2Config(**kw)) if arch == "qwen2" else LlamaForCausalLM(LlamaConfig(**kw)))
    return model.float().eval()


def _write_gguf(path, model, arch: str, *, permute: bool = True, other=None):
    """The model's decoder linears at Q4_0 in llama.cpp's names (llama: q/k rows permuted, as its converter does)."""
    writer = GGUFWriter(str(path), arch)
    cfg = model.config
    for i, layer in enumerate(model.model.layers):
        modules = dict(layer.named_modules())
        for local, short in GGUF_LINEARS.items():
            w = modules[local].weight.detach().float()
            if other is not None:
                w = torch.randn_like(w) * w.std()
            if arch == "llama" and permute and local in ("self_attn.q_proj", "self_attn.k_proj"):
                heads = cfg.num_attention_heads if local == "self_attn.q_proj" else cfg.num_key_value_heads
                w = rotary_rows(w, heads)
            data = w.numpy()
            writer.add_tensor(f"blk.{i}.{short}.weight", quantize(data, GGMLQuantizationType.Q4_0),
                              raw_dtype=GGMLQuantizationType.Q4_0)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


CFG = EoRAConfig(rank=8, calibration_samples=4, calibration_len=32, batch_size=2)


@pytest.mark.parametrize("arch", ["qwen2", "llama"])
def test_the_adapter_removes_most_of_the_files_error_where_the_inputs_are(tmp_path, arch):
    model = _tiny(arch)
    _write_gguf(tmp_path / "m.gguf", model, arch)
    report = write_eora_adapter(tmp_path / "m.gguf", model, _Chars(), tmp_path / "a.gguf", CFG)
    assert report.layers == 2 and report.rank == 8 and report.method == "eigen"
    assert 0 < report.error_after < 0.5 * report.error_before, report
    # the model now computes with the file's weights plus the compensation, in the checkpoint's layout
    reader = GGUFReader(tmp_path / "a.gguf")
    fields = {k: f.contents() for k, f in reader.fields.items() if not k.startswith("GGUF.")}
    assert fields["general.type"] == "adapter" and fields["adapter.type"] == "lora"
    assert fields["general.architecture"] == arch and fields["adapter.lora.alpha"] == 8.0
    tensors = {t.name: t for t in reader.tensors}
    assert len(tensors) == 2 * 2 * len(GGUF_LINEARS)
    a, b = tensors["blk.1.ffn_down.weight.lora_a"], tensors["blk.1.ffn_down.weight.lora_b"]
    # ggml order (ne): lora_a [in, r], lora_b [r, out]; float16
    assert list(a.shape) == [128, 8] and list(b.shape) == [8, 64]
    assert a.tensor_type == GGMLQuantizationType.F16


def test_svd_is_the_baseline_and_needs_no_eigenbasis(tmp_path):
    model = _tiny("qwen2")
    _write_gguf(tmp_path / "m.gguf", model, "qwen2")
    svd = write_eora_adapter(tmp_path / "m.gguf", model, _Chars(), tmp_path / "s.gguf",
                             EoRAConfig(rank=8, method="svd", calibration_samples=4, calibration_len=32, batch_size=2))
    assert svd.method == "svd" and svd.error_after < svd.error_before


def test_a_file_of_other_weights_is_refused_by_name(tmp_path):
    model = _tiny("qwen2")
    _write_gguf(tmp_path / "m.gguf", model, "qwen2", other=True)
    with pytest.raises(InvalidInput, match=r"blk\.0\.attn_q\.weight differs from the checkpoint"):
        write_eora_adapter(tmp_path / "m.gguf", model, _Chars(), tmp_path / "a.gguf", CFG)
    assert not (tmp_path / "a.gguf").exists()


def test_a_llama_file_read_without_its_permutation_is_caught(tmp_path):
    model = _tiny("llama")
    _write_gguf(tmp_path / "m.gguf", model, "llama", permute=False)  # what a wrong layout would look like
    with pytest.raises(InvalidInput, match=r"attn_q\.weight differs"):
        write_eora_adapter(tmp_path / "m.gguf", model, _Chars(), tmp_path / "a.gguf", CFG)


def test_unknown_architectures_and_non_gguf_files_are_refused(tmp_path):
    model = _tiny("qwen2")
    _write_gguf(tmp_path / "m.gguf", model, "falcon")
    with pytest.raises(UnsupportedFeature, match="architecture 'falcon'"):
        write_eora_adapter(tmp_path / "m.gguf", model, _Chars(), tmp_path / "a.gguf", CFG)
    (tmp_path / "x.gguf").write_bytes(b"not a gguf")
    with pytest.raises(InvalidInput, match="not a GGUF"):
        write_eora_adapter(tmp_path / "x.gguf", model, _Chars(), tmp_path / "a.gguf", CFG)


def test_rotary_rows_inverse_undoes_the_permutation():
    w = torch.arange(16 * 3, dtype=torch.float32).reshape(16, 3)
    p = rotary_rows(w, 2)
    assert not torch.equal(p, w) and torch.equal(rotary_rows(p, 2, inverse=True), w)
    # llama.cpp's order within a head of 8 rows: row i beside row i + 4 (the rotary pairs interleaved)
    assert p[:, 0].tolist()[:8] == [3 * r for r in (0, 4, 1, 5, 2, 6, 3, 7)]


@pytest.mark.parametrize("spec,ftype,eora", [("q3_k_s+eora64", "Q3_K_S", ("eigen", 64)), ("Q4_0", "Q4_0", None),
                                              (" q2_k + svd16 ", "Q2_K", ("svd", 16))])
def test_compress_for_a_gguf_is_a_smaller_type_and_its_compensation(spec, ftype, eora):
    comp = GGUFCompression.parse(spec)
    assert comp.ftype == ftype
    assert (None if comp.eora is None else (comp.eora.method, comp.eora.rank)) == eora
    assert GGUFCompression.parse(comp) is comp and GGUFCompression.parse(comp.label) == comp


@pytest.mark.parametrize("spec,match", [("int4+eora64", "expected a type"), ("eora64", "expected a type"),
                                        ("q4_0+lora64", "cannot read 'lora64'"), ("q4_0+eora8+svd8", "one compensation")])
def test_a_compress_spec_a_gguf_cannot_take_says_what_it_can(spec, match):
    with pytest.raises(InvalidInput, match=match):
        GGUFCompression.parse(spec)


def test_factors_are_in_the_files_row_order(tmp_path):
    """llama: the adapter's B rows follow the file's permuted q rows, so B A adds to the right rows."""
    model = _tiny("llama")
    w0 = model.model.layers[0].self_attn.q_proj.weight.detach().clone()
    _write_gguf(tmp_path / "m.gguf", model, "llama")
    write_eora_adapter(tmp_path / "m.gguf", model, _Chars(), tmp_path / "a.gguf", CFG)
    reader = GGUFReader(tmp_path / "m.gguf")
    from gguf.quants import dequantize

    t = next(t for t in reader.tensors if t.name == "blk.0.attn_q.weight")
    wc = torch.from_numpy(np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float32))
    ad = {t.name: torch.from_numpy(np.asarray(t.data, dtype=np.float32)) for t in GGUFReader(tmp_path / "a.gguf").tensors}
    fixed = wc + ad["blk.0.attn_q.weight.lora_b"] @ ad["blk.0.attn_q.weight.lora_a"]
    target = rotary_rows(w0, 4)
    assert (fixed - target).norm() < (wc - target).norm()
