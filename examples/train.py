#!/usr/bin/env python3
"""A stand-in for a training script: made-up losses that fall faster with a larger --lr,
logged with the sqltrack_run helper. Run it under sqltrack-run:

    sqltrack-run -e sweep --tag lr=0.1 -- python3 examples/train.py --lr 0.1
"""

import argparse
import math
import time

import sqltrack_run

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.01)
parser.add_argument("--epochs", type=int, default=20)
args = parser.parse_args()

for epoch in range(1, args.epochs + 1):
    train_loss = 0.2 + 2.0 * math.exp(-epoch * args.lr * 3)
    val_loss = train_loss * 1.1 + 0.05 * math.sin(epoch)
    val_acc = 1 - val_loss / 3
    sqltrack_run.log(step=epoch, progress=epoch / args.epochs, train_loss=train_loss,
                     val_loss=val_loss, val_acc=val_acc)
    time.sleep(0.05)
print(f"run {sqltrack_run.run_id()}: lr={args.lr} val_loss={val_loss:.4f}")
