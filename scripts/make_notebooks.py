"""Writes the notebooks in notebooks/ from the cell sources below, without outputs.

The notebooks are committed as generated here (no stale outputs); edit this file, then run
`python scripts/make_notebooks.py`. tests/test_notebooks.py checks that the committed files match.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent.parent / "notebooks"

DATA_HEAD = """\
import torch
from torch import nn
from sklearn.datasets import load_digits

import lrwidget

torch.manual_seed(0)
X, y = load_digits(return_X_y=True)                       # 1,797 8x8 digits, shipped with scikit-learn
X = torch.tensor(X / 16.0, dtype=torch.float32)
y = torch.tensor(y)
perm = torch.randperm(len(X))
train_idx, test_idx = perm[:1500], perm[1500:]
train_set = torch.utils.data.TensorDataset(X[train_idx], y[train_idx])
train_loader = torch.utils.data.DataLoader(train_set, batch_size=64, shuffle=True)
"""  # noqa: E501 (the notebook's own line, with its aligned comment)

MLP = """\


def make_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
"""

# The quickstart's model: the MLP's range test is over in ~0.3 s, before the widget has drawn; a
# range test of this CNN takes a few seconds on a 2-core CPU, so the first thing a user runs shows
# the curve growing (real work, no sleep).
CNN = """\


def make_model():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),                           # the 64 pixels as an 8x8 image
        nn.Conv2d(1, 64, 3, padding=1), nn.ReLU(),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128 * 4 * 4, 128), nn.ReLU(), nn.Linear(128, 10))
"""

ACCURACY = """\


def accuracy(model):
    model.eval()
    with torch.no_grad():
        return (model(X[test_idx]).argmax(1) == y[test_idx]).float().mean().item()
"""

DATA = DATA_HEAD + MLP + ACCURACY  # the MLP notebooks' first cell

TRAIN = """\
def train(model, optimizer, epochs=3):
    criterion = nn.CrossEntropyLoss()
    for _ in range(epochs):
        model.train()
        for xb, yb in train_loader:
            optimizer.zero_grad()
            criterion(model(xb), yb).backward()
            optimizer.step()
    return accuracy(model)
"""


def quickstart():
    return [
        new_markdown_cell(
            "# lrwidget quickstart\n\n"
            "Find a learning rate for a small CNN on scikit-learn's digits, live: the curve grows "
            "while the range test runs (a few seconds on a laptop's CPU). **Click** the curve (or "
            "use the arrow keys on it) to pick a learning rate, then press **Apply**: the model "
            "and optimizer are put back as they were before the test, and the optimizer gets the "
            "learning rate you chose."
        ),
        new_code_cell(DATA_HEAD + CNN + ACCURACY + "\n" + TRAIN),
        new_code_cell(
            "model = make_model()\n"
            "optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)\n"
            "widget = lrwidget.find_lr(model, optimizer, train_loader, nn.CrossEntropyLoss(),\n"
            "                          start_lr=1e-6, end_lr=10, num_iter=200)"
        ),
        new_markdown_cell(
            "The cell above returns at once: the test runs in a background thread, so the widget "
            "stays clickable. `widget.wait()` blocks until it ends. If you did not press Apply, "
            "`widget.apply()` applies the default suggestion (the `minimum` rule: the lr of the "
            "lowest loss, divided by 10)."
        ),
        new_code_cell(
            "result = widget.wait()\n"
            "print(result.stop_reason, len(result.lrs), 'readings in', f'{result.elapsed:.1f} s')\n"
            "for s in result.suggestions.values():   # the default rule comes first\n"
            "    print(f'{s.name:>8}: ' + (f'{s.lr:.3g}' if s.lr else 'none') + f'  "
            "({s.reason})')\n"
            "if widget.applied_lr is None:   # nothing applied from the view: take the default "
            "suggestion\n"
            "    widget.apply()\n"
            "lr = widget.applied_lr\n"
            "print(f\"optimizer lr = {optimizer.param_groups[0]['lr']:.3g}\")"
        ),
        new_markdown_cell("Now train for 3 epochs with that learning rate."),
        new_code_cell(
            "acc = train(model, optimizer, epochs=3)\n"
            "print(f'test accuracy after 3 epochs at lr={lr:.3g}: {acc:.1%}')"
        ),
    ]


def custom_loop():
    return [
        new_markdown_cell(
            "# Your own training step\n\n"
            "Many models do not fit `criterion(model(x), y)`: Hugging Face style models take dict "
            "batches and return their loss, some train with several losses or their own step. "
            "lrwidget offers two ways in:\n\n"
            "1. `step_fn(model, batch) -> loss`: you say how to get the loss of a batch, lrwidget "
            "does the rest;\n"
            "2. `finder.track(...)`: **your own loop** runs, lrwidget sets the learning rate of "
            "every step and records the loss you hand it.\n\n"
            "Both restore the model and optimizer afterwards, and both stream into the same live "
            "widget."
        ),
        new_code_cell(DATA),
        new_code_cell(
            "class DictDigits(torch.utils.data.Dataset):\n"
            '    """Batches come as dicts, as with Hugging Face datasets."""\n'
            "    def __len__(self):\n"
            "        return len(train_idx)\n"
            "    def __getitem__(self, i):\n"
            "        j = train_idx[i]\n"
            '        return {"pixels": X[j], "labels": y[j]}\n\n\n'
            "class Classifier(nn.Module):\n"
            '    """Returns its own loss, as Hugging Face models do."""\n'
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.net = make_model()\n"
            "    def forward(self, pixels, labels=None):\n"
            "        logits = self.net(pixels)\n"
            "        loss = None if labels is None else nn.functional.cross_entropy(logits, "
            "labels)\n"
            '        return {"loss": loss, "logits": logits}\n\n\n'
            "dict_loader = torch.utils.data.DataLoader(DictDigits(), batch_size=64, "
            "shuffle=True)\n"
            "model = Classifier()\n"
            "optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)"
        ),
        new_markdown_cell("## 1. `step_fn`: say how to get the loss of a batch"),
        new_code_cell(
            "finder = lrwidget.LRFinder(model, optimizer)\n"
            'widget = lrwidget.LRFinderWidget(finder, title="AdamW, step_fn")\n'
            "display(widget)\n"
            'widget.run(dict_loader, step_fn=lambda model, batch: model(**batch)["loss"],\n'
            "           start_lr=1e-6, end_lr=1, num_iter=100)"
        ),
        new_code_cell(
            "result = widget.wait()\n"
            'print(result.stop_reason, f"suggested lr = {result.suggested_lr:.3g}")'
        ),
        new_markdown_cell(
            "## 2. `track`: your own loop\n\n"
            "Iterating `run` writes the next learning rate into the optimizer; `run.record(loss)` "
            "records the step's loss. The loop ends by itself at `num_iter`, when the loss "
            "diverges, or on Stop. The same widget shows this run too, because it listens to the "
            "finder. (A loop in the cell itself draws live, but a click reaches Python only when "
            "the cell ends; `widget.run` uses a thread to avoid that.)"
        ),
        new_code_cell(
            "import itertools\n\n"
            "with finder.track(start_lr=1e-6, end_lr=1, num_iter=100) as run:\n"
            "    for lr, batch in zip(run, itertools.cycle(dict_loader)):\n"
            "        optimizer.zero_grad()\n"
            '        loss = model(**batch)["loss"]\n'
            "        loss.backward()\n"
            "        optimizer.step()\n"
            "        run.record(loss)\n"
            'print(run.result.stop_reason, f"suggested lr = {run.result.suggested_lr:.3g}")'
        ),
        new_markdown_cell(
            "The model and optimizer are as they were before both tests; apply the choice:"
        ),
        new_code_cell(
            "finder.apply(run.result.suggested_lr)\n"
            "print(f\"optimizer lr = {optimizer.param_groups[0]['lr']:.3g}\")"
        ),
    ]


def optimizers():
    return [
        new_markdown_cell(
            "# SGD or Adam: their good learning rates differ\n\n"
            "The same model, two optimizers, side by side. Adaptive optimizers (Adam, AdamW) "
            "scale each step by a running estimate of the gradient's size, so their good learning "
            "rates are typically 10-100x smaller than plain SGD with momentum. Never carry an LR "
            "over from one optimizer to the other."
        ),
        new_code_cell(DATA + "\n" + TRAIN),
        new_code_cell(
            "import ipywidgets\n\n"
            "def own_loader():  # each test its own seeded batch order: two threads share no "
            "sampler\n"
            "    return torch.utils.data.DataLoader(train_set, batch_size=64, shuffle=True,\n"
            "                                       "
            "generator=torch.Generator().manual_seed(0))\n\n"
            "sgd_model, adam_model = make_model(), make_model()\n"
            "sgd = torch.optim.SGD(sgd_model.parameters(), lr=1e-3, momentum=0.9)\n"
            "adam = torch.optim.Adam(adam_model.parameters(), lr=1e-3)\n"
            "w_sgd = lrwidget.LRFinderWidget(lrwidget.LRFinder(sgd_model, sgd, "
            'nn.CrossEntropyLoss()), title="SGD (momentum 0.9)")\n'
            "w_adam = lrwidget.LRFinderWidget(lrwidget.LRFinder(adam_model, adam, "
            'nn.CrossEntropyLoss()), title="Adam")\n'
            'display(ipywidgets.HBox([w_sgd, w_adam], layout=ipywidgets.Layout(width="100%")))\n'
            "for w in (w_sgd, w_adam):\n"
            "    w.run(own_loader(), start_lr=1e-6, end_lr=10, num_iter=150)"
        ),
        new_code_cell(
            "r_sgd, r_adam = w_sgd.wait(), w_adam.wait()\n"
            'for name, r in (("SGD", r_sgd), ("Adam", r_adam)):\n'
            '    print(f"{name:>5}: suggested lr = {r.suggested_lr:.3g}  ({r.stop_reason})")\n'
            'print(f"ratio SGD / Adam = {r_sgd.suggested_lr / r_adam.suggested_lr:.0f}x")'
        ),
        new_markdown_cell(
            "Train both for 3 epochs at their own suggestion (or at what you applied):"
        ),
        new_code_cell(
            'for name, w, model, opt in (("SGD", w_sgd, sgd_model, sgd), ("Adam", w_adam, '
            "adam_model, adam)):\n"
            "    if w.applied_lr is None:\n"
            "        w.apply()\n"
            "    lr = w.applied_lr\n"
            '    print(f"{name:>5} at lr={lr:.3g}: test accuracy {train(model, opt):.1%}")'
        ),
    ]


def sidebar():
    return [
        new_markdown_cell(
            "# The finder in JupyterLab's sidebar\n\n"
            "`lrwidget.show_in_sidebar(widget)` puts the live widget in JupyterLab's right "
            "sidebar (through the `sidecar` package), so it stays in view while you scroll. Where "
            "there is no such sidebar (Notebook 7, VS Code) it shows inline instead; in "
            "JupyterLab the inline place shrinks to a note."
        ),
        new_code_cell(DATA),
        new_code_cell(
            "model = make_model()\n"
            "optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)\n"
            "widget = lrwidget.LRFinderWidget(lrwidget.LRFinder(model, optimizer, "
            "nn.CrossEntropyLoss()),\n"
            '                                 title="digits MLP")\n'
            'lrwidget.show_in_sidebar(widget, title="LR finder")\n'
            "widget.run(train_loader, start_lr=1e-6, end_lr=10, num_iter=150)"
        ),
        new_code_cell(
            "result = widget.wait()\n"
            "if widget.applied_lr is None:   # nothing applied from the view: take the default "
            "suggestion\n"
            "    widget.apply()\n"
            "lr = widget.applied_lr\n"
            'print(f"{result.stop_reason}; optimizer lr = '
            "{optimizer.param_groups[0]['lr']:.3g}\")"
        ),
    ]


DDP_JOB = """\
%%writefile $job_py
import os

import torch
import torch.distributed as dist
from torch import nn
from sklearn.datasets import load_digits

import lrwidget

dist.init_process_group("gloo")          # torchrun gives every rank RANK, WORLD_SIZE, MASTER_ADDR
rank, world = dist.get_rank(), dist.get_world_size()
torch.set_num_threads(1)
X, y = load_digits(return_X_y=True)
X = torch.tensor(X / 16.0, dtype=torch.float32)[rank::world]   # each rank its own shard
y = torch.tensor(y)[rank::world]
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=64,
                                     shuffle=True)
torch.manual_seed(0)
model = nn.parallel.DistributedDataParallel(
    nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)))
optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
criterion = nn.CrossEntropyLoss()

finder = lrwidget.LRFinder(model, optimizer, criterion)  # collective: every rank runs the test
link = lrwidget.connect(finder)          # LRWIDGET_ADDRESS, LRWIDGET_TOKEN; only rank 0 connects
result = finder.range_test(loader, start_lr=1e-5, end_lr=10, num_iter=150)
lr = link.wait_for_choice(timeout=600)   # the lr applied in the notebook, now in every optimizer
# one write of a whole line (end=""): the ranks share one unbuffered pipe
print(f"rank {rank}: {result.stop_reason} after {len(result)} steps; "
      f"training at lr={optimizer.param_groups[0]['lr']:.6g}\\n", end="", flush=True)
link.close()

for epoch in range(3):                   # the job goes on with the chosen lr
    for xb, yb in loader:
        optimizer.zero_grad()
        criterion(model(xb), yb).backward()
        optimizer.step()
with torch.no_grad():
    acc = (model(X).argmax(1) == y).float().mean()
dist.all_reduce(acc)
if rank == 0:
    print(f"training accuracy after 3 epochs: {acc.item() / world:.1%}", flush=True)
dist.destroy_process_group()
"""


def distributed():
    return [
        new_markdown_cell(
            "# A torchrun job, watched and steered from here\n\n"
            "Real training often runs as a `torchrun` job over several processes (GPUs, "
            "machines), started from a terminal or a scheduler. `lrwidget.listen()` shows a "
            "widget here that waits for such a job; the job streams its range test into it with "
            "`lrwidget.connect(finder)`, and the lr you apply here goes back into the job's "
            "optimizer, on every rank.\n\n"
            "Under `torch.distributed` the finder is *collective*: every rank runs the same "
            "sweep, the recorded loss is the **mean over the ranks** (reduced every 16 steps), "
            "and every rank stops on the same step, so no rank is left waiting for another in "
            "DDP's all-reduce. Here the job is 2 ranks of a DDP-wrapped MLP on CPU (gloo), "
            "launched with `subprocess`."
        ),
        new_code_cell(
            "import os\n"
            "import shutil\n"
            "import subprocess\n"
            "import sys\n"
            "import tempfile\n\n"
            "import lrwidget\n\n"
            'job_dir = tempfile.mkdtemp(prefix="lrwidget-ddp-")\n'
            'job_py = os.path.join(job_dir, "ddp_job.py")'
        ),
        new_markdown_cell(
            "The job: a plain DDP script with three lrwidget lines (`LRFinder`, `connect`, "
            "`wait_for_choice`). Without a notebook listening it runs all the same, with a "
            "progress bar in its terminal, and `wait_for_choice` falls back on the default "
            "suggestion after its timeout."
        ),
        new_code_cell(DDP_JOB),
        new_markdown_cell(
            "Listen, then start the job with the widget's address and token in its environment "
            "(`w.env`). On a cluster node, carry the port with an SSH tunnel (the docs: "
            '`docs/distributed.md`, "A job on a cluster node").'
        ),
        new_code_cell(
            'w = lrwidget.listen(title="digits MLP, torchrun job of 2 ranks")\n'
            'env = {**os.environ, **w.env, "OMP_NUM_THREADS": "1"}\n'
            "# its output to a file: a pipe read only at the end would stop the job when full\n"
            'log = open(os.path.join(job_dir, "job.log"), "w")\n'
            "job = subprocess.Popen(\n"
            '    [sys.executable, "-m", "torch.distributed.run", "--standalone", '
            '"--nproc_per_node=2", job_py],\n'
            "    cwd=job_dir, env=env, stdout=log, stderr=subprocess.STDOUT)"
        ),
        new_code_cell(
            "result = w.wait(timeout=300)            # the job's result, once its test ended\n"
            'print(f"{result.stop_reason} after {len(result)} steps; "\n'
            '      f"suggested lr = {result.suggested_lr:.3g}")'
        ),
        new_markdown_cell(
            "Click the curve and **Apply** in the widget: the job is waiting for it in "
            "`link.wait_for_choice`. Or choose from here: `w.apply(lr)` sends an lr (the default "
            "suggestion without one) and returns what the job's optimizer holds then."
        ),
        new_code_cell(
            "if w.applied_lr is None:                 # nothing applied in the widget yet\n"
            "    w.apply()\n"
            'print(f"the job trains at lr = {w.applied_lr:.6g}")'
        ),
        new_code_cell(
            "job.wait(timeout=300)                    # the job's output: every rank has the lr\n"
            "log.close()\n"
            'out = open(os.path.join(job_dir, "job.log")).read()\n'
            "assert job.returncode == 0, out\n"
            'print("\\n".join(s for s in out.splitlines() if s.startswith(("rank", "training"))))\n'
            "w.close()\n"
            "shutil.rmtree(job_dir)"
        ),
    ]


HF_DATA = """\
import tempfile

import torch
from sklearn.datasets import load_digits
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

from lrwidget.integrations.transformers import LRFinderCallback

torch.set_num_threads(1)                                         # a model this small: fastest on one
X, y = load_digits(return_X_y=True)                              # 8x8 digits, pixels 0..16
ink = torch.tensor(X > 7, dtype=torch.long).reshape(-1, 8, 8)
rows = (ink * 2 ** torch.arange(8)).sum(-1) + 1                  # a row of 8 pixels: a token 1..256
tokens = torch.cat([torch.zeros(len(rows), 1, dtype=torch.long), rows], 1)  # 0: [CLS]
labels = torch.tensor(y)
torch.manual_seed(0)
perm = torch.randperm(len(tokens))


class Digits(torch.utils.data.Dataset):
    \"\"\"Batches as the Trainer wants them: dicts of input_ids, attention_mask, labels.\"\"\"
    def __init__(self, idx):
        self.idx = idx
    def __len__(self):
        return len(self.idx)
    def __getitem__(self, i):
        j = self.idx[i]
        return {"input_ids": tokens[j], "attention_mask": torch.ones(9, dtype=torch.long),
                "labels": labels[j]}


train_set, test_set = Digits(perm[:1500]), Digits(perm[1500:])
config = BertConfig(vocab_size=257, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                    intermediate_size=128, max_position_embeddings=9, num_labels=10,
                    hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
torch.manual_seed(0)
model = BertForSequenceClassification(config)                    # built from its config: no download
args = TrainingArguments(output_dir=tempfile.mkdtemp(prefix="hf-digits-"), num_train_epochs=5,
                         per_device_train_batch_size=32, warmup_steps=20,
                         lr_scheduler_type="linear", report_to="none", save_strategy="no",
                         logging_strategy="no", disable_tqdm=True, use_cpu=True)
"""  # noqa: E501 (the notebook's own lines, with their aligned comments)


# The find-step notebooks (transformers, lightning): what a run without clicks does after find()
UNATTENDED = (
    "**In the notebook you click instead.** This notebook also runs unattended (CI executes it), "
    "so the next cell waits for the test to end and, when nothing was applied in the widget, "
    "applies the default suggestion in code: `w.apply()` does what pressing Apply does"
)

WAIT_OR_DEFAULT = """\
result = w.wait()
print(result.stop_reason, len(result.lrs), 'readings')
for s in result.suggestions.values():   # the default rule comes first
    print(f'{s.name:>8}: ' + (f'{s.lr:.3g}' if s.lr else 'none') + f'  ({s.reason})')
if w.applied_lr is None:   # nothing applied in the widget: the default suggestion
    w.apply()
print(f'applied lr = {w.applied_lr:.6g}')"""


def transformers():
    return [
        new_markdown_cell(
            "# Hugging Face Trainer: find the learning rate, then train at it\n\n"
            "`LRFinderCallback` runs a range test on the Trainer's own model, optimizer (AdamW as "
            "the Trainer builds it from `TrainingArguments`) and train dataloader, with the "
            "model's own loss (`model(**batch).loss`). The model and optimizer are put back as "
            "they were, bit for bit, and training runs at the chosen lr: the optimizer's, "
            "`trainer.args.learning_rate`, and the schedule's, so warmup and decay are built "
            "around it.\n\n"
            "Here a tiny BERT classifier, built from its config (nothing is downloaded), learns "
            "scikit-learn's digits from scratch: each row of 8 pixels is a token."
        ),
        new_code_cell(HF_DATA),
        new_markdown_cell(
            "## The find step\n\n"
            "While a cell runs `trainer.train()` the kernel handles no click, so the test gets a "
            "cell of its own: `callback.find(trainer)` starts it in a background thread, on the "
            "optimizer `trainer.train()` will use, and returns the live widget at once. Click "
            "the curve, press **Apply**, then train."
        ),
        new_code_cell(
            "callback = LRFinderCallback(start_lr=1e-5, end_lr=1, num_iter=100)\n"
            "trainer = Trainer(model=model, args=args, train_dataset=train_set, "
            "callbacks=[callback])\n"
            "w = callback.find(trainer)\n"
            "w"
        ),
        new_markdown_cell(
            UNATTENDED + ". Let the test end before `trainer.train()`: the Trainer prepares the "
            "optimizer and builds its schedule before training begins."
        ),
        new_code_cell(WAIT_OR_DEFAULT),
        new_markdown_cell(
            "## Train\n\n"
            "`trainer.train()` takes the applied lr without testing again: the optimizer, "
            "`args.learning_rate` and the schedule's base lrs (20 warmup steps, then a linear "
            "decay) all hold it."
        ),
        new_code_cell(
            "trainer.train()\n"
            "print(f'trains at lr = {callback.chosen_lr:.6g} ({callback.chosen_by})')\n"
            "print(f'args.learning_rate = {trainer.args.learning_rate:.6g}')\n"
            "print('schedule base lrs = ' + ', '.join(f'{v:.6g}' for v in "
            "trainer.lr_scheduler.base_lrs))\n"
            "pred = trainer.predict(test_set)\n"
            "acc = (pred.predictions.argmax(1) == pred.label_ids).mean()\n"
            "print(f'test accuracy: {acc:.1%}')"
        ),
        new_markdown_cell(
            "## In a script or a job\n\n"
            'Without a notebook there is nothing to click: pass `choose="default"` and '
            "`trainer.train()` runs the test, restores, and trains at the default suggestion "
            '(`callback.chosen_lr`). `choose="click"` in a plain script raises before any '
            "step, saying so. A job started from a terminal can stream its test to a notebook "
            "running `lrwidget.listen()` and wait for the Apply there (`LRWIDGET_ADDRESS` and "
            "`LRWIDGET_TOKEN` in its environment).\n\n"
            "**Fine-tuning.** Finders tend to suggest ~1e-3 where fine-tuning a pre-trained "
            "transformer wants ~1e-5 (the reason the Trainer has no finder, transformers "
            "#16013). The suggestion is made for training like this one, from scratch; when you "
            "fine-tune, read the curve rather than take the default."
        ),
    ]


LIGHTNING_IMPORTS = """\
import lightning.pytorch as pl

from lrwidget.integrations.lightning import LRFinderCallback
"""

LIGHTNING_MODULE = """\
class DigitsClassifier(pl.LightningModule):
    def __init__(self, lr=1e-3):
        super().__init__()
        self.net = make_model()
        self.lr = lr

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.cross_entropy(self(x), y)
        self.log("train_loss", loss, on_epoch=True)   # fine during the range test too
        return loss

    def on_train_batch_start(self, batch, batch_idx):
        if self.global_step == 0:
            g = self.trainer.optimizers[0].param_groups[0]
            print(f"first step: lr = {g['lr']:.6g}, one-cycle peak = {g['max_lr']:.6g}")

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9)
        one_cycle = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=self.lr, total_steps=int(self.trainer.estimated_stepping_batches))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": one_cycle, "interval": "step"}}


model = DigitsClassifier()
"""


def lightning():
    return [
        new_markdown_cell(
            "# PyTorch Lightning: find the learning rate, then train at it\n\n"
            "`LRFinderCallback` runs a range test when training starts, on the optimizer your "
            "`configure_optimizers` built, with the trainer's train dataloader and your own "
            "`training_step` loss. The model and optimizer are put back as they were, bit for "
            "bit, and training runs at the chosen lr: the optimizer's and the schedule's (here a "
            "one cycle, which then peaks at the chosen lr).\n\n"
            "A small MLP on scikit-learn's digits, as a LightningModule:"
        ),
        # DATA's imports with Lightning's instead of lrwidget's (the callback is all it uses)
        new_code_cell(
            DATA.replace("import lrwidget\n", LIGHTNING_IMPORTS) + "\n\n" + LIGHTNING_MODULE
        ),
        new_markdown_cell(
            "## The find step\n\n"
            "While a cell runs `trainer.fit(...)` the kernel handles no click, so the test gets a "
            "cell of its own: `callback.find(model, train_loader, trainer=trainer)` starts it in "
            "a background thread (on a bare trainer of its own with this trainer's settings) "
            "and returns the live widget at once. Click the curve, press **Apply**, then fit."
        ),
        new_code_cell(
            "callback = LRFinderCallback(start_lr=1e-5, end_lr=10, num_iter=150)\n"
            "trainer = pl.Trainer(max_epochs=3, callbacks=[callback], logger=False,\n"
            "                     enable_checkpointing=False, enable_progress_bar=False,\n"
            "                     enable_model_summary=False)\n"
            "w = callback.find(model, train_loader, trainer=trainer)\n"
            "w"
        ),
        new_markdown_cell(
            UNATTENDED + " (`w.apply(lr)` for an lr of your own). Let the test end before "
            "`trainer.fit`: a fit that takes the model during the test ends it, with an error "
            "that says so."
        ),
        new_code_cell(WAIT_OR_DEFAULT),
        new_markdown_cell(
            "## Train\n\n"
            "`trainer.fit` takes the applied lr without testing again: the optimizer and the one "
            "cycle's peak hold it (it starts at a 25th of it)."
        ),
        new_code_cell(
            "trainer.fit(model, train_loader)\n"
            "print(f'trains at lr = {callback.chosen_lr:.6g} ({callback.chosen_by})')\n"
            "print(f'test accuracy: {accuracy(model):.1%}')"
        ),
        new_markdown_cell(
            "## In a script, or a torchrun job\n\n"
            'Without a notebook there is nothing to click: pass `choose="default"` and '
            "`trainer.fit` runs the test, restores, and trains at the default suggestion "
            '(`callback.chosen_lr`); `choose="click"` in a plain script raises before any '
            'step, saying so. Under `strategy="ddp"` every rank tests together and trains at '
            "the same lr. A job started from a terminal can stream its test to a notebook "
            "running `lrwidget.listen()` and wait for the Apply there: start it with that "
            "widget's `LRWIDGET_ADDRESS` and `LRWIDGET_TOKEN` in its environment "
            "(`notebooks/distributed.ipynb` shows the listening side)."
        ),
    ]


NOTEBOOKS = {
    "quickstart.ipynb": quickstart,
    "custom_loop.ipynb": custom_loop,
    "optimizers.ipynb": optimizers,
    "sidebar.ipynb": sidebar,
    "distributed.ipynb": distributed,
    "transformers.ipynb": transformers,
    "lightning.ipynb": lightning,
}


def build(name):
    nb = new_notebook(cells=NOTEBOOKS[name]())
    stem = name.removesuffix(".ipynb")
    for i, cell in enumerate(nb.cells):
        cell.id = f"{stem}-{i}"  # stable ids: regenerating gives the same file
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def main(argv=None):
    HERE.mkdir(exist_ok=True)
    for name in NOTEBOOKS:
        nbformat.write(build(name), HERE / name)
        print("wrote", HERE / name)


if __name__ == "__main__":
    sys.exit(main())
