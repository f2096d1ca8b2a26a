# lrwidget in marimo: `marimo edit notebooks/marimo_quickstart.py` (or `marimo run` for the app).
# Options after `--`: `--num-iter 150` (steps of the range test), `--step-sleep 0` (seconds each
# step also waits: the browser test slows the run down to watch it grow).
import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell(hide_code=True)
def _(mo):
    mo.md(
        """
        # lrwidget in marimo

        Find a learning rate for a small MLP on scikit-learn's digits, live: the curve grows while
        the range test runs. **Click** the curve (or use the arrow keys on it) to pick a learning
        rate, then press **Apply**: the model and optimizer are put back as they were before the
        test, and the optimizer gets the learning rate you chose.
        """
    )
    return


@app.cell
def _():
    import time

    import marimo as mo
    import torch
    from sklearn.datasets import load_digits
    from torch import nn

    import lrwidget

    return load_digits, lrwidget, mo, nn, time, torch


@app.cell
def _(load_digits, mo, nn, time, torch):
    args = mo.cli_args()
    num_iter = int(args.get("num-iter") or 150)
    step_sleep = float(args.get("step-sleep") or 0)

    torch.manual_seed(0)
    X, y = load_digits(return_X_y=True)  # 1,797 8x8 digits, shipped with scikit-learn
    train_set = torch.utils.data.TensorDataset(
        torch.tensor(X / 16.0, dtype=torch.float32), torch.tensor(y)
    )
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=64, shuffle=True)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    criterion = nn.CrossEntropyLoss()

    def step(model, batch):
        time.sleep(step_sleep)
        inputs, labels = batch
        return criterion(model(inputs), labels)

    return criterion, model, num_iter, optimizer, step, train_loader


@app.cell
def _(criterion, lrwidget, mo, model, num_iter, optimizer, step, train_loader):
    # The range test runs in a background thread: the cell returns at once, the view stays live.
    finder = lrwidget.LRFinder(model, optimizer, criterion)
    lr_widget = lrwidget.LRFinderWidget(finder, title="digits MLP, SGD")
    lr_widget.run(train_loader, start_lr=1e-6, end_lr=10, num_iter=num_iter, step_fn=step)
    mo.ui.anywidget(lr_widget)
    return (lr_widget,)


@app.cell
def _(mo):
    read_lr = mo.ui.run_button(label="Read the optimizer's learning rate")
    read_lr
    return (read_lr,)


@app.cell
def _(lr_widget, mo, optimizer, read_lr):
    mo.stop(not read_lr.value, mo.md("Press the button after **Apply** to read the optimizer."))
    mo.md(
        f"optimizer lr: `{optimizer.param_groups[0]['lr']!r}` "
        f"(applied from the view: `{lr_widget.applied_lr!r}`)"
    )
    return


if __name__ == "__main__":
    app.run()
