"""Tasks whose table schema is declared in the config (``task.features``, ``task.label``)."""

from __future__ import annotations

from torch import nn

from conf.errors import ConfigError
from conf.schema import TaskConfig
from tasks.base import Task
from tasks.encoding import encoded_width, validate_specs
from tasks.models import TabularMLP


class DeclaredSchemaTask(Task):
    """A table task trained with :class:`TabularMLP` on the schema the config declares."""

    def __init__(self, cfg: TaskConfig) -> None:
        super().__init__(cfg)
        if cfg.label is None:
            raise ConfigError("task.label: declare the label column and its classes")
        validate_specs(cfg.features, cfg.label)
        self.features = cfg.features
        self.label = cfg.label

    def build_model(self) -> nn.Module:
        return TabularMLP(
            encoded_width(self.features), len(self.label.classes), self.cfg.hidden_units
        )
