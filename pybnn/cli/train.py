"""`pybnn train`: train a preset on IDX files or a .npz of arrays and export it to .bnn.

    pybnn train --model mlp --data ../shared/data/mnist --out mlp.bnn
    pybnn train --model conv --data my_images.npz

It prints what it read and how it split it, then per epoch the train loss,
the validation error and the time (a progress bar runs on a terminal), then
the test error of the exported model (the validation error when the data has
no test set), checked against the engine when it is built.
"""
import os
import time

import numpy as np

from ..train.data import VAL_FRACTION, VAL_MAX, load_dataset
from ..train.layers_norm import BatchNorm
from ..train.plot import plot_history
from ..train.presets import CONV_DEFAULTS, MLP_DEFAULTS, PRESETS
from ..train.trainer import TrainConfig, Trainer

# Defaults per preset: the MLP fits 30 minutes on 2 cores, the ConvNet 60 (docs/TRAINING.md).
# The batch is capped at the training set's size.
EPOCHS = {"mlp": 30, "conv": 16}
BATCH = {"mlp": 200, "conv": 100}


def say(*args):
    print(*args, flush=True)  # flushed: long runs write to log files


LOSS_ALIASES = {"hinge": "squared_hinge", "squared_hinge": "squared_hinge",
                "ce": "cross_entropy", "cross_entropy": "cross_entropy"}


def add_parser(sub):
    p = sub.add_parser("train", help="train a binarized network on IDX or .npz data and write "
                                     "a .bnn file",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=sorted(PRESETS), default="mlp", help="preset (default mlp)")
    p.add_argument("--data", required=True, metavar="DIR|NPZ",
                   help="a directory of IDX files (train-images-idx3-ubyte[.gz], ...; the t10k "
                        "test files are optional) or a .npz with uint8 images x_train "
                        "(N, H, W[, C]), integer labels y_train and optionally x_test, y_test")
    p.add_argument("--out", default=None, help="the .bnn file to write (default MODEL.bnn)")
    p.add_argument("--epochs", type=int, default=None,
                   help=f"epochs (default {EPOCHS['mlp']} for mlp, {EPOCHS['conv']} for conv)")
    p.add_argument("--batch", type=int, default=None,
                   help=f"mini-batch size (default {BATCH['mlp']} for mlp, {BATCH['conv']} for "
                        f"conv, at most the training set)")
    p.add_argument("--width", type=int, default=None,
                   help=f"hidden units (mlp, default {MLP_DEFAULTS['width']}) or first conv "
                        f"channels (conv, default {CONV_DEFAULTS['width']})")
    p.add_argument("--stochastic", action="store_true",
                   help="stochastic binarization of weights and activations while training")
    p.add_argument("--shift-bn", action="store_true", help="shift-based batch normalization")
    p.add_argument("--shift-adamax", action="store_true",
                   help="the paper's shift-based AdaMax (same as --optimizer shift_adamax)")
    p.add_argument("--optimizer", choices=["adam", "adamax", "shift_adamax"], default="adam",
                   help="default adam")
    p.add_argument("--loss", choices=sorted(LOSS_ALIASES), default="squared_hinge",
                   help="squared_hinge (the paper's; alias hinge) or cross_entropy (alias ce)")
    p.add_argument("--lr-start", type=float, default=0.003,
                   help="learning rate of the first epoch (default 0.003)")
    p.add_argument("--lr-end", type=float, default=3e-5,
                   help="decayed exponentially towards this after the last epoch (default 3e-5)")
    p.add_argument("--dropout-in", type=float, default=None, help="mlp input dropout")
    p.add_argument("--dropout-hidden", type=float, default=None, help="mlp hidden dropout")
    p.add_argument("--translate", type=int, default=0, metavar="PIXELS",
                   help="augmentation: move each training image by a random offset of up to "
                        "PIXELS in each direction (default 0: none, as the paper)")
    p.add_argument("--seed", type=int, default=0, help="seeds initialisation and batches")
    p.add_argument("--val", type=int, default=None,
                   help=f"validation images, taken from the end of the training set (default "
                        f"1/{VAL_FRACTION} of it, at most {VAL_MAX}: MNIST's 10000 of 60000)")
    p.add_argument("--train-limit", type=int, default=None,
                   help="use only the first N remaining training images (quick runs)")
    p.add_argument("--bn-stats", type=int, default=10000, metavar="N",
                   help="after training, set each batch-norm's statistics from the first N "
                        "training images (default 10000; 0 keeps the running averages)")
    p.add_argument("--checkpoint", default=None,
                   help="checkpoint file written after every epoch (default OUT.ckpt.npz)")
    p.add_argument("--resume", action="store_true",
                   help="continue from the checkpoint if it exists (same data and options)")
    p.add_argument("--plot", default=None, help="learning-curve PNG (default OUT.png; needs "
                                                "matplotlib, the `plot` extra)")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS threads (default: all; 1 avoids OpenBLAS stalls on a busy machine)")
    p.set_defaults(func=run)
    return p


def build_network(args, input_shape, classes):
    preset = PRESETS[args.model]
    kw = {"n_classes": classes, "stochastic": args.stochastic, "shift_bn": args.shift_bn,
          "seed": args.seed}
    if args.width is not None:
        kw["width"] = args.width
    if args.model == "mlp":
        kw["n_features"] = input_shape[0]
        for name in ("dropout_in", "dropout_hidden"):
            if getattr(args, name) is not None:
                kw[name] = getattr(args, name)
    else:
        kw["input_shape"] = input_shape
    return preset(**kw)


def run(args):
    if args.threads:
        _limit_blas_threads(args.threads)
    out = args.out or f"{args.model}.bnn"
    stem = os.path.splitext(out)[0]
    ckpt = args.checkpoint or f"{stem}.ckpt.npz"
    if args.shift_adamax:
        args.optimizer = "shift_adamax"
    epochs = args.epochs or EPOCHS[args.model]
    if epochs < 1 or (args.batch is not None and args.batch < 1):
        raise ValueError(f"--epochs and --batch must be >= 1, got {epochs} and {args.batch}")
    if args.bn_stats < 0:
        raise ValueError(f"--bn-stats must be >= 0, got {args.bn_stats}")
    t0 = time.monotonic()
    data = load_dataset(args.data, args.model, args.val, args.train_limit)
    batch = choose_batch(args.batch, BATCH[args.model], len(data.x_train))
    say(data.summary())
    if args.resume and os.path.exists(ckpt):
        trainer = Trainer.resume(ckpt, epochs=epochs)
        say(f"resumed from {ckpt} after epoch {trainer.epoch}")
    else:
        model = build_network(args, data.x_train.shape[1:], data.classes)
        config = TrainConfig(epochs=epochs, batch=batch, lr_start=args.lr_start,
                             lr_end=args.lr_end, optimizer=args.optimizer,
                             loss=LOSS_ALIASES[args.loss], seed=args.seed, translate=args.translate,
                             image_shape=data.image_shape)
        trainer = Trainer(model, config, checkpoint=ckpt)
    model = trainer.model
    say(model.summary())
    say(f"training: {trainer.config}")
    trainer.fit(data.x_train, data.y_train, data.x_val, data.y_val)
    if args.bn_stats:
        set_bn_statistics(model, data.x_train[:args.bn_stats], data.x_val, data.y_val,
                          trainer.history)
    model.export(out)
    say(f"wrote {out} ({os.path.getsize(out)} bytes)")
    name, x_eval, y_eval = final_evaluation_set(data, args.bn_stats > 0)
    pred = model.predict(x_eval)
    say(f"{name} error {100 * np.mean(pred != y_eval):.2f}% on {len(x_eval)} images "
        f"(the trainer's evaluation forward = the exported integer model)")
    status = check_with_engine(out, pred, x_eval, y_eval, name)
    png = args.plot or f"{stem}.png"
    if plot_history(trainer.history, png, f"{args.model} on {args.data}"):
        say(f"learning curves: {png}")
    else:
        say("learning curves: matplotlib is not installed (pip install pybnn[plot])")
    say(f"total time {time.monotonic() - t0:.0f}s")
    return status


def choose_batch(requested, preset_default, n_train):
    """--batch as given (at most the training set), or the preset's default capped at it."""
    if requested is None:
        return min(preset_default, n_train)
    if requested > n_train:
        raise ValueError(f"--batch must be in [1, {n_train}] for {n_train} training images, "
                         f"got {requested}")
    return requested


def final_evaluation_set(data, bn_chosen):
    """(name, x, y) the final error is measured on: test, else validation, else training.

    bn_chosen: the validation error chose the batch-norm statistics (--bn-stats).
    """
    if data.x_test is not None:
        return "test", data.x_test, data.y_test
    if len(data.x_val):
        chose = (" (it also chose the batch-norm statistics: not an independent test)"
                 if bn_chosen else "")
        say(f"no test set: the final figure is the validation error{chose}")
        return "validation", data.x_val, data.y_val
    say("no test set and no validation split: the final figure is the training error, "
        "not a measure of generalisation")
    return "training", data.x_train, data.y_train


def set_bn_statistics(model, x, x_val, y_val, history):
    """Population batch-norm statistics (Network.set_population_statistics), kept if they help.

    With a validation split, whichever of the population statistics and the
    running averages gives the lower validation error is kept (ties: population).
    """
    start = time.monotonic()
    layers = [l for l in model.layers if isinstance(l, BatchNorm)]
    running = [(l.running_mean.copy(), l.running_var.copy()) for l in layers]
    model.set_population_statistics(x)
    line = f"batch-norm statistics over {len(x)} training images ({time.monotonic() - start:.0f}s)"
    if len(x_val) and history.val_error:
        before, after = history.val_error[-1], model.error(x_val, y_val)
        keep = after <= before
        if not keep:
            for layer, (mean, var) in zip(layers, running):
                layer.running_mean[...], layer.running_var[...] = mean, var
        kept = "population statistics" if keep else "running averages"
        line += (f": val error {100 * after:.2f}%, with the running averages "
                 f"{100 * before:.2f}%: keeping the {kept}")
    say(line)


def check_with_engine(path, trainer_pred, x, y, name="test"):
    """Run the written file with the engine; report its error and agreement with the trainer."""
    try:
        from .. import load
    except ImportError:
        say("engine check skipped: this build of pybnn has no engine (pybnn.load)")
        return 0
    engine_pred = np.argmax(load(path).run(x), axis=1)
    same = int(np.sum(engine_pred == trainer_pred))
    say(f"engine (pybnn.load): {name} error {100 * np.mean(engine_pred != y):.2f}%, "
          f"{same}/{len(x)} predictions identical to the trainer's")
    return 0 if same == len(x) else 1


def _limit_blas_threads(n):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise ValueError("--threads needs threadpoolctl (pip install threadpoolctl), or set "
                         "OPENBLAS_NUM_THREADS before starting") from None
    threadpool_limits(n)
