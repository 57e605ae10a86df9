"""Text classifiers: TF-IDF char n-grams (accented and diacritic-free) + word n-grams + logistic regression.

Char n-grams survive typos, missing diacritics and stretched words; word n-grams catch the rest.
Training and cross-validation use scikit-learn; `compact()` exports the fitted model to
`nlu.linear.LinearTextModel`, which the running bot uses without importing scikit-learn.
Each training example is learned twice, as written and with diacritics stripped, so "phan anh duong
ngap" scores like "phản ánh đường ngập". Inputs are `Normalized.folded` strings (see normalize.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from threadpoolctl import threadpool_limits

from nlu.linear import MODEL_VERSION, PREPROCESSORS, LinearTextModel, NgramFeatures, identity
from nlu.normalize import normalize, strip_diacritics

__all__ = ["MODEL_VERSION", "TextClassifier", "augment", "build_pipeline"]


def build_pipeline(c: float = 20.0) -> Pipeline:
    """Features on the folded text: char 1–5 (accents kept), char 2–5 and words 1–2 without accents."""
    features = FeatureUnion(
        [
            (
                "char",
                TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5), preprocessor=identity, sublinear_tf=True),
            ),
            (
                "char_ascii",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), preprocessor=strip_diacritics, sublinear_tf=True
                ),
            ),
            (
                "word_ascii",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    preprocessor=strip_diacritics,
                    token_pattern=r"(?u)\b\w+\b",
                    sublinear_tf=True,
                ),
            ),
        ]
    )
    model = LogisticRegression(C=c, max_iter=3000, tol=1e-4, class_weight="balanced")
    return Pipeline([("features", features), ("clf", model)])


def augment(texts: Sequence[str], labels: Sequence[str]) -> tuple[list[str], list[str]]:
    """Folded examples plus their diacritic-free twins (deduplicated per label)."""
    seen: set[tuple[str, str]] = set()
    out_x: list[str] = []
    out_y: list[str] = []
    for text, label in zip(texts, labels, strict=True):
        folded = normalize(text).folded
        for variant in (folded, strip_diacritics(folded)):
            if variant and (variant, label) not in seen:
                seen.add((variant, label))
                out_x.append(variant)
                out_y.append(label)
    return out_x, out_y


@dataclass
class TextClassifier:
    """A fitted pipeline and its labels; `rank()` gives (label, probability) best first."""

    pipeline: Pipeline

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], c: float = 20.0) -> TextClassifier:
        x, y = augment(texts, labels)
        pipeline = build_pipeline(c)
        with threadpool_limits(1):  # BLAS threads only add contention at this size
            pipeline.fit(x, y)
        return cls(pipeline)

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.pipeline.classes_]

    def rank(self, folded: str) -> list[tuple[str, float]]:
        probs = self.pipeline.predict_proba([folded])[0]
        order = np.argsort(probs)[::-1]
        classes = self.pipeline.classes_
        return [(str(classes[i]), float(probs[i])) for i in order]

    def predict(self, folded_texts: Sequence[str]) -> list[str]:
        return [str(p) for p in self.pipeline.predict(list(folded_texts))]

    def compact(self) -> LinearTextModel:
        """The same model as plain arrays, scored with numpy only (see nlu/linear.py)."""
        names = {fn: name for name, fn in PREPROCESSORS.items()}
        features = []
        for _, vectorizer in self.pipeline.named_steps["features"].transformer_list:
            supported = vectorizer.sublinear_tf and vectorizer.use_idf and vectorizer.norm == "l2"
            if not supported or vectorizer.binary or vectorizer.analyzer not in {"char_wb", "word"}:
                raise ValueError(f"cannot export {vectorizer!r}")
            if vectorizer.preprocessor not in names:
                raise ValueError(f"cannot export {vectorizer!r}")
            vocabulary = {str(term): int(i) for term, i in vectorizer.vocabulary_.items()}
            features.append(
                NgramFeatures(
                    vectorizer.analyzer,
                    tuple(vectorizer.ngram_range),
                    names[vectorizer.preprocessor],
                    vectorizer.token_pattern,
                    vocabulary,
                    np.asarray(vectorizer.idf_, dtype=np.float64),
                )
            )
        clf = self.pipeline.named_steps["clf"]
        return LinearTextModel(tuple(features), np.asarray(clf.coef_), np.asarray(clf.intercept_), tuple(self.labels))
