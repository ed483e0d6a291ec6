"""Public declarations applied to the metadata SDV fits with."""

from __future__ import annotations

import pandas as pd

from conf.schema import FeatureSpec
from synthetic.metadata import declare

STRUCTURE = {"tables": {"table": {"columns": {}}}, "relationships": [],
             "METADATA_SPEC_VERSION": "V2"}


def test_small_integer_domain_is_categorical_over_the_declared_values() -> None:
    table = pd.DataFrame({"smoker": [0, 1, 1, 0], "tenure": [3.0, 70.0, 200.0, None],
                          "rating": [1, 2, 3, 4]})
    specs = (FeatureSpec(name="smoker", type="numeric", low=0, high=1, integer=True),
             FeatureSpec(name="tenure", type="numeric", low=0, high=120, integer=True),
             FeatureSpec(name="rating", type="numeric", low=1, high=5))
    document, fitted = declare(STRUCTURE, table, specs)
    columns = document["tables"]["table"]["columns"]
    assert columns["smoker"] == {"sdtype": "categorical", "range_values": [0, 1]}
    assert columns["tenure"] == {"sdtype": "numerical", "range_min": 0, "range_max": 120}
    assert columns["rating"] == {"sdtype": "numerical", "range_min": 1, "range_max": 5}
    assert fitted["tenure"].tolist()[:3] == [3, 70, 120]  # clipped to the declared bounds
