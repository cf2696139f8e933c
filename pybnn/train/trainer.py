"""The training loop: mini-batches, the paper's update rules, validation, checkpoints.

One numpy Generator (seeded) drives shuffling, dropout and stochastic
binarization; its state is saved in every checkpoint together with the
weights, batch-norm statistics and optimizer moments, so a run resumed from
a checkpoint continues exactly as the uninterrupted run would have.
"""
import json
import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from .augment import check_translate, random_translate
from .labels import check_in_range, check_label_array
from .losses import get_loss
from .network import Network
from .optim import lr_at_epoch, make_optimizer
from .progress import Progress


@dataclass
class TrainConfig:
    epochs: int = 20
    batch: int = 100
    lr_start: float = 0.003
    lr_end: float = 3e-5
    optimizer: str = "adam"  # adam, adamax, shift_adamax
    loss: str = "squared_hinge"  # or cross_entropy
    seed: int = 0
    translate: int = 0  # augmentation: random translations of up to +-translate pixels
    image_shape: tuple = None  # (H, W, C) of the training images, for `translate` on flat inputs


@dataclass
class History:
    epoch: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    val_error: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    seconds: list = field(default_factory=list)


class Trainer:
    """Train `model` on uint8 arrays; `log` receives one line per epoch."""

    def __init__(self, model, config, log=None, checkpoint=None):
        self.model, self.config = model, config
        self.log = log or (lambda line: print(line, flush=True))  # flushed: logs go to files
        self.checkpoint = checkpoint
        get_loss(config.loss)  # fail early on a bad name
        if config.translate:
            check_translate(config.translate, config.image_shape)
        self.optimizer = make_optimizer(config.optimizer, model.params())
        self.rng = np.random.default_rng(config.seed)
        self.history = History()
        self.epoch = 0

    def fit(self, x, y, x_val=None, y_val=None):
        """Run the remaining epochs (all of them, or those after a resumed checkpoint).

        x, x_val: uint8 inputs of the model's input shape; y, y_val: integer
        labels 0..classes-1 (classes: the model's outputs).
        """
        if len(x) == 0:
            raise ValueError("no training samples")
        y = self._labels(y, x, "training labels")
        if x_val is not None:
            y_val = self._labels(y_val, x_val, "validation labels")
        while self.epoch < self.config.epochs:
            self.train_epoch(x, y, x_val, y_val)
            if self.checkpoint:
                self.save_checkpoint(self.checkpoint)
        return self.history

    def _labels(self, y, x, what):
        """y checked against x and the model's classes (a negative label would index silently)."""
        y = check_label_array(y, len(x), what)
        check_in_range(y, self.model.output_shape[-1], what, "the model's outputs")
        return y

    def train_epoch(self, x, y, x_val=None, y_val=None):
        cfg, model, loss_fn = self.config, self.model, get_loss(self.config.loss)
        lr = lr_at_epoch(self.epoch, cfg.epochs, cfg.lr_start, cfg.lr_end)
        start = time.monotonic()
        order = self.rng.permutation(len(x))
        n_batches = -(-len(x) // cfg.batch)
        bar = Progress(n_batches, f"epoch {self.epoch + 1}/{cfg.epochs}")
        total = 0.0
        for k in range(n_batches):
            idx = order[k * cfg.batch:(k + 1) * cfg.batch]
            xb = x[idx]
            if cfg.translate:
                xb = random_translate(xb, cfg.translate, cfg.image_shape, self.rng)
            out = model.forward(xb, train=True, rng=self.rng)
            loss, grad = loss_fn(out, y[idx])
            if not np.isfinite(loss):
                raise FloatingPointError(f"the loss became {loss} at epoch {self.epoch + 1}, "
                                         f"batch {k + 1}; try a smaller --lr-start")
            model.backward(grad)
            self.optimizer.step(lr)
            total += loss * len(idx)
            bar.update(k + 1, f"loss {total / ((k * cfg.batch) + len(idx)):.4f}")
        bar.close()
        train_loss = total / len(x)
        val_error = model.error(x_val, y_val) if x_val is not None and len(x_val) else float("nan")
        seconds = time.monotonic() - start
        self.epoch += 1
        h = self.history
        for name, v in (("epoch", self.epoch), ("train_loss", train_loss),
                        ("val_error", val_error), ("lr", lr), ("seconds", seconds)):
            getattr(h, name).append(v)
        val_text = "     -" if np.isnan(val_error) else f"{100 * val_error:6.2f}%"
        self.log(f"epoch {self.epoch:3d}/{cfg.epochs}  loss {train_loss:.4f}  "
                 f"val error {val_text}  lr {lr:.2e}  time {seconds:6.1f}s")

    # -- checkpoints ---------------------------------------------------------------
    def save_checkpoint(self, path):
        """Write everything needed to resume, atomically (a crash never leaves half a file)."""
        arrays = {f"model/{k}": v for k, v in self.model.state_arrays().items()}
        st = self.optimizer.state()
        for i, (m, v) in enumerate(zip(st["m"], st["v"])):
            arrays[f"opt/m{i}"], arrays[f"opt/v{i}"] = m, v
        meta = {"model": self.model.config(), "train": asdict(self.config),
                "epoch": self.epoch, "opt_t": int(st["t"]), "history": asdict(self.history),
                "rng": self.rng.bit_generator.state}
        tmp = f"{path}.tmp"
        with open(tmp, "wb") as f:
            np.savez(f, __meta__=json.dumps(meta), **arrays)
        os.replace(tmp, path)

    @classmethod
    def resume(cls, path, log=None, epochs=None):
        """A Trainer restored from a checkpoint; `epochs` may extend the planned total."""
        with np.load(path) as z:
            meta = json.loads(str(z["__meta__"]))
            model = Network.from_config(meta["model"])
            model.load_state_arrays({k[6:]: z[k] for k in z.files if k.startswith("model/")})
            config = TrainConfig(**meta["train"])
            if epochs is not None:
                config.epochs = epochs
            trainer = cls(model, config, log, checkpoint=path)
            n = len(trainer.optimizer.m)
            trainer.optimizer.load_state({"t": meta["opt_t"],
                                          "m": [z[f"opt/m{i}"] for i in range(n)],
                                          "v": [z[f"opt/v{i}"] for i in range(n)]})
        trainer.rng.bit_generator.state = meta["rng"]
        trainer.epoch = meta["epoch"]
        trainer.history = History(**meta["history"])
        return trainer
