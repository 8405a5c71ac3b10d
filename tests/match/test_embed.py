from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from agentflowd.embed import DIM, MODEL_ID, EmbedderUnavailable, get_embedder
from agentflowd.embed.minilm import OnnxMiniLM

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def embedder():
    return get_embedder()


def test_shape_dtype_and_unit_rows(embedder) -> None:
    vecs = embedder.embed(["hello", "a longer sentence about kubernetes pods", ""])
    assert vecs.shape == (3, DIM)
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert embedder.model_id == MODEL_ID and embedder.dim == DIM


def test_empty_input_gives_empty_matrix(embedder) -> None:
    assert embedder.embed([]).shape == (0, DIM)


def test_one_string_is_rejected(embedder) -> None:
    with pytest.raises(TypeError):
        embedder.embed("not a list")


def test_matches_fp32_reference_vectors(embedder) -> None:
    # Reference: a numpy fp32 forward pass of the upstream safetensors; int8 must stay close.
    ref = json.loads((DATA / "reference_vectors.json").read_text())
    got = embedder.embed(ref["texts"])
    cos = (got * np.asarray(ref["vectors"], dtype=np.float32)).sum(axis=1)
    assert cos.min() >= 0.99, cos


def test_batching_and_padding_do_not_change_vectors() -> None:
    texts = [f"sentence number {i} " + "word " * (i % 17) for i in range(40)]
    small = OnnxMiniLM(batch_size=3).embed(texts)
    alone = np.stack([get_embedder().embed([t])[0] for t in texts[:5]])
    big = get_embedder().embed(texts)
    np.testing.assert_allclose(small, big, atol=2e-3)
    np.testing.assert_allclose(alone, big[:5], atol=2e-3)


def test_paraphrase_is_closer_than_unrelated(embedder) -> None:
    a, b, c = embedder.embed(
        ["my pod keeps crashing", "the kubernetes container restarts in a loop", "bake a cake"]
    )
    assert a @ b > a @ c + 0.2


def test_long_text_is_truncated_not_rejected(embedder) -> None:
    vec = embedder.embed(["word " * 2000])
    assert np.isfinite(vec).all()


def test_singleton_is_shared_across_threads() -> None:
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(get_embedder())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(e is seen[0] for e in seen)


def test_missing_model_file_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailable):
        OnnxMiniLM(model_path=tmp_path / "nope.onnx")
    with pytest.raises(EmbedderUnavailable):
        OnnxMiniLM(tokenizer_path=tmp_path / "nope.json")


def test_importing_the_package_is_cheap() -> None:
    code = (
        "import sys, agentflowd.embed; "
        "print(sorted(m for m in ('numpy', 'onnxruntime', 'tokenizers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_bad_thread_setting_is_a_config_error(monkeypatch) -> None:
    from agentflowd import embed
    from agentflowd.errors import ConfigError

    monkeypatch.setenv(embed.THREADS_ENV, "zero")
    with pytest.raises(ConfigError):
        embed._threads_from_env()
    monkeypatch.setenv(embed.THREADS_ENV, "2")
    assert embed._threads_from_env() == 2
