"""The image task: scikit-learn's bundled handwritten digits (1,797 8x8 images, 10 classes)."""

from __future__ import annotations

import pandas as pd
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import TensorDataset

from conf.schema import FeatureSpec, LabelSpec
from tasks.base import Task
from tasks.encoding import encode_table
from tasks.models import DigitsCNN

SIDE = 8
PIXELS = tuple(
    FeatureSpec(name=f"px{i}", type="numeric", low=0.0, high=16.0, integer=True)
    for i in range(SIDE * SIDE)
)
"""Pixel columns ``px0..px63`` (row-major) with intensities 0..16."""
LABEL = LabelSpec(name="label", classes=tuple(str(d) for d in range(10)))


class DigitsTask(Task):
    """Digits as a table of 64 pixel columns plus ``label``; images of shape (1, 8, 8)
    scaled to [0, 1]. The schema is fixed: ``task.features``/``task.label`` are unused."""

    name = "digits"
    features = PIXELS
    label = LABEL

    def build_model(self) -> nn.Module:
        return DigitsCNN(classes=len(LABEL.classes))

    def source_table(self) -> pd.DataFrame:
        bunch = load_digits()
        df = pd.DataFrame(bunch.data.astype("int64"), columns=[spec.name for spec in PIXELS])
        df[LABEL.name] = bunch.target.astype("int64")
        return df

    def to_dataset(self, df: pd.DataFrame, source: str = "table") -> TensorDataset:
        x, y = encode_table(df, PIXELS, LABEL, source)
        return TensorDataset(x.view(-1, 1, SIDE, SIDE), y)
