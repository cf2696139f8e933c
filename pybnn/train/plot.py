"""Learning curves as a PNG, when matplotlib (the optional `plot` extra) is installed."""


def plot_history(history, path, title=""):
    """Write train loss and validation error per epoch to `path`; False if matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(history.epoch, history.train_loss, marker="o")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("train loss")
    ax1.set_yscale("log")
    ax2.plot(history.epoch, [100 * e for e in history.val_error], marker="o", color="C1")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("validation error (%)")
    for ax in (ax1, ax2):
        ax.grid(True, alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
