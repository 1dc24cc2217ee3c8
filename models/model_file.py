"""One model file: the fitted estimators and their metadata, saved with skops, loaded safely.

Why skops: a pickle runs whatever code its author put in it.  `skops.io.load` rebuilds only the
types it is told to trust; we trust scikit-learn/numpy/scipy types that skops itself trusts, plus
an explicit list of this project's own classes, and refuse a file naming anything else.

The file holds a dict: {"format": FORMAT, "estimators": {"record": est, "url": est},
"metadata": {...}} where "record" scores extraction records and "url" scores bare URLs.
Metadata: method, settings, library versions, a digest of the training data, its evaluation.
"""
from __future__ import annotations

import hashlib
import json
import platform
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

FORMAT = "ccimg-size-model/1"

# Our own classes a model file may contain (they are code in this repository, not in the file).
PROJECT_TYPES = [
    "features.model_inputs.url_grams.GramVectorizer",
    "features.model_inputs.url_grams.GramTable",
    "features.model_inputs.url_shape.UrlShapeFeatures",
    "features.model_inputs.url_shape.UrlHintFeatures",
    "features.model_inputs.paper.PaperFeatures",
    "features.model_inputs.context.ContextFeatures",
    "models.calibration.CalibratedThreshold",
    "models.methods.HybridClassifier",
]
# Library types skops does not trust by default but that hold only data.
LIBRARY_TYPES = [
    "sklearn.pipeline.FeatureUnion",
    "sklearn.pipeline.Pipeline",
    "sklearn.isotonic.IsotonicRegression",
    "builtins.slice",
    "numpy.dtype",
    "numpy.ndarray",
    # fitted trees and forests: data only, skops rebuilds them field by field
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._tree.Tree",
]
TRUSTED_TYPES = PROJECT_TYPES + LIBRARY_TYPES


@dataclass
class ModelBundle:
    estimators: dict
    metadata: dict = field(default_factory=dict)

    def for_input(self, kind: str):
        """The estimator for 'record' or 'url' input (a record model also takes URLs, less well)."""
        if kind in self.estimators:
            return self.estimators[kind]
        return next(iter(self.estimators.values()))


def library_versions() -> dict:
    import numpy
    import scipy
    import sklearn
    import skops
    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "numpy": numpy.__version__,
            "scipy": scipy.__version__, "skops": skops.__version__}


def data_digest(records, y) -> str:
    """sha256 over the training examples' image URLs, page URLs and labels, in order."""
    h = hashlib.sha256()
    for rec, label in zip(records, y):
        url = rec if isinstance(rec, str) else f"{rec.get('page_url')}\t{rec.get('img_url')}"
        h.update(f"{url}\t{int(label)}\n".encode("utf-8", "replace"))
    return h.hexdigest()


def save(path: str | Path, bundle: ModelBundle) -> None:
    import skops.io as sio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    obj = {"format": FORMAT, "estimators": bundle.estimators,
           "metadata": json.dumps(bundle.metadata, sort_keys=True, default=_json_default)}
    sio.dump(obj, path, compression=zipfile.ZIP_DEFLATED, compresslevel=9)


def _json_default(o):
    if hasattr(o, "tolist"):
        return o.tolist()
    return str(o)


class UntrustedModelError(ValueError):
    pass


def load(path: str | Path) -> ModelBundle:
    """Load a model file; skops refuses (UntrustedTypesFoundException) any type outside the allow-list."""
    import skops.io as sio

    try:
        obj = sio.load(path, trusted=TRUSTED_TYPES)
    except Exception as exc:
        if type(exc).__name__ == "UntrustedTypesFoundException":
            raise UntrustedModelError(f"{path}: refusing to load: {exc}") from exc
        raise
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} file")
    return ModelBundle(obj["estimators"], json.loads(obj["metadata"]))
