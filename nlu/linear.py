"""The fitted text classifiers as plain arrays, scored with numpy only (no scikit-learn at run time).

Training (`nlu/recognizer.py`, scikit-learn) exports each TF-IDF vectorizer's vocabulary and idf
and the logistic regression's coef/intercept; this module recomputes the same features
(`char_wb` / `word` n-grams, sublinear tf, idf, l2 norm per vectorizer) and the same softmax, so
predictions match the scikit-learn pipeline while a fresh process skips importing it (~1.5 s).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from nlu.normalize import strip_diacritics

# Bump when features, model or this file format change: part of the stale-model fingerprint.
MODEL_VERSION = "4"

_WHITE_SPACES = re.compile(r"\s\s+")  # as scikit-learn's char_wb analyzer
_SEP = "\x00"  # vocabulary terms never contain NUL (they come from folded, whitespace-split text)


def identity(text: str) -> str:
    return text


PREPROCESSORS: dict[str, Callable[[str], str]] = {"identity": identity, "strip_diacritics": strip_diacritics}


@dataclass(frozen=True)
class NgramFeatures:
    """One fitted TF-IDF vectorizer: how to cut n-grams, and each n-gram's column and idf."""

    analyzer: str  # "char_wb" or "word"
    ngram_range: tuple[int, int]
    preprocessor: str  # a key of PREPROCESSORS
    token_pattern: str
    vocabulary: Mapping[str, int]
    idf: np.ndarray

    def ngrams(self, text: str) -> list[str]:
        text = PREPROCESSORS[self.preprocessor](text)
        return _char_wb_ngrams(text, self.ngram_range) if self.analyzer == "char_wb" else self._word_ngrams(text)

    def _word_ngrams(self, text: str) -> list[str]:
        tokens = re.findall(self.token_pattern, text)
        low, high = self.ngram_range
        out = list(tokens) if low == 1 else []
        for n in range(max(low, 2), min(high, len(tokens)) + 1):
            out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        return out

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(column indices, l2-normalised sublinear tf-idf values) of the n-grams in the vocabulary."""
        counts = Counter(self.vocabulary[g] for g in self.ngrams(text) if g in self.vocabulary)
        if not counts:
            return np.empty(0, dtype=np.int64), np.empty(0)
        columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=np.float64, count=len(counts))
        values = tf * self.idf[columns]
        norm = float(np.sqrt(np.dot(values, values)))
        return columns, values / norm if norm > 0 else values


def _char_wb_ngrams(text: str, ngram_range: tuple[int, int]) -> list[str]:
    """Character n-grams inside word boundaries, padded with a space (scikit-learn's `char_wb`)."""
    low, high = ngram_range
    out: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text).split():
        padded = f" {word} "
        size = len(padded)
        for n in range(low, high + 1):
            if n >= size:  # a short word is counted once, whole
                out.append(padded)
                break
            out.extend(padded[i : i + n] for i in range(size - n + 1))
    return out


@dataclass(frozen=True)
class LinearTextModel:
    """Concatenated n-gram features → multinomial logistic regression; `rank()` like `TextClassifier`."""

    features: tuple[NgramFeatures, ...]
    coef: np.ndarray  # (classes or 1, total features)
    intercept: np.ndarray
    classes: tuple[str, ...]

    def probabilities(self, folded: str) -> np.ndarray:
        columns: list[np.ndarray] = []
        values: list[np.ndarray] = []
        offset = 0
        for feature in self.features:
            c, v = feature.vector(folded)
            columns.append(c + offset)
            values.append(v)
            offset += len(feature.idf)
        cols = np.concatenate(columns)
        scores = self.coef[:, cols] @ np.concatenate(values) + self.intercept
        if len(scores) == 1:  # binary: scikit-learn scores the second class only
            p = 1.0 / (1.0 + math.exp(-float(scores[0])))
            return np.array([1.0 - p, p])
        exp = np.exp(scores - scores.max())
        return np.asarray(exp / exp.sum())

    def rank(self, folded: str) -> list[tuple[str, float]]:
        probs = self.probabilities(folded)
        order = np.argsort(probs)[::-1]
        return [(self.classes[i], float(probs[i])) for i in order]

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Plain arrays (no pickles) for `np.savez`, names starting with `prefix`."""
        arrays = {
            f"{prefix}coef": self.coef,
            f"{prefix}intercept": self.intercept,
            f"{prefix}classes": _pack(self.classes),
        }
        for i, f in enumerate(self.features):
            terms = sorted(f.vocabulary, key=f.vocabulary.__getitem__)
            arrays[f"{prefix}f{i}_meta"] = _pack(
                (f.analyzer, str(f.ngram_range[0]), str(f.ngram_range[1]), f.preprocessor, f.token_pattern)
            )
            arrays[f"{prefix}f{i}_terms"] = _pack(terms)
            arrays[f"{prefix}f{i}_idf"] = f.idf
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], prefix: str) -> LinearTextModel:
        features = []
        i = 0
        while f"{prefix}f{i}_meta" in arrays:
            analyzer, low, high, preprocessor, token_pattern = _unpack(arrays[f"{prefix}f{i}_meta"])
            if analyzer not in {"char_wb", "word"} or preprocessor not in PREPROCESSORS:
                raise ValueError(f"unsupported features {analyzer!r}/{preprocessor!r}")
            terms = _unpack(arrays[f"{prefix}f{i}_terms"])
            vocabulary = {t: j for j, t in enumerate(terms)}
            idf = np.asarray(arrays[f"{prefix}f{i}_idf"], dtype=np.float64)
            ngram_range = (int(low), int(high))
            features.append(NgramFeatures(analyzer, ngram_range, preprocessor, token_pattern, vocabulary, idf))
            i += 1
        coef = np.asarray(arrays[f"{prefix}coef"], dtype=np.float64)
        if not features or coef.shape[1] != sum(len(f.idf) for f in features):
            raise ValueError("model arrays do not fit together")
        return cls(tuple(features), coef, np.asarray(arrays[f"{prefix}intercept"]), _unpack(arrays[f"{prefix}classes"]))


def _pack(strings: tuple[str, ...] | list[str]) -> np.ndarray:
    return np.frombuffer(_SEP.join(strings).encode("utf-8"), dtype=np.uint8)


def _unpack(array: np.ndarray) -> tuple[str, ...]:
    text = array.tobytes().decode("utf-8")
    return tuple(text.split(_SEP)) if text else ()
