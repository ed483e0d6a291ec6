"""The models the tasks train: small, Opacus-compatible (GroupNorm, no BatchNorm).

Parameters are initialised from torch's global RNG; the caller seeds it from the config
seed so that every run of the same config starts from the same model.
"""

from torch import Tensor, nn


class DigitsCNN(nn.Module):
    """A two-layer CNN for 1x8x8 digit images, 10 classes (about 10k parameters)."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1),
            nn.GroupNorm(4, 16),
            nn.ReLU(),
            nn.Conv2d(16, 32, kernel_size=3, padding=1),
            nn.GroupNorm(4, 32),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Linear(32 * 4 * 4, classes)

    def forward(self, x: Tensor) -> Tensor:
        """Map images of shape (n, 1, 8, 8) to logits of shape (n, classes)."""
        return self.classifier(self.features(x).flatten(1))


class TabularMLP(nn.Module):
    """A multilayer perceptron with two hidden layers for encoded table rows."""

    def __init__(self, in_features: int, classes: int, hidden_units: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(in_features, hidden_units),
            nn.ReLU(),
            nn.Linear(hidden_units, hidden_units),
            nn.ReLU(),
            nn.Linear(hidden_units, classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        """Map rows of shape (n, in_features) to logits of shape (n, classes)."""
        return self.layers(x)
