"""The training curves image of a run (the guide's `training_curves.png`), drawn from its history."""
from __future__ import annotations

from pathlib import Path


def save_curves(history: dict[str, list[float]], path: Path) -> None:
    """The guide's training_curves.png: train and validation loss, validation character and sequence accuracy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.figure(figsize=(12, 4))
    plt.subplot(1, 2, 1)
    plt.plot(history["train_loss"], label="Train")
    plt.plot(history["val_loss"], label="Val")
    plt.xlabel("Epoch"), plt.ylabel("Loss"), plt.legend(), plt.title("Training Loss")
    plt.subplot(1, 2, 2)
    plt.plot(history["val_char_acc"], label="Char Acc")
    plt.plot(history["val_seq_acc"], label="Seq Acc")
    plt.xlabel("Epoch"), plt.ylabel("Accuracy"), plt.legend(), plt.title("Validation Accuracy")
    plt.tight_layout()
    plt.savefig(path)
    plt.close()
