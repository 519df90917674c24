"""``nnverify convert``: read any supported weights file, write JSON or NPZ (atomically)."""

from __future__ import annotations

import argparse
import os

from nnverify.cli.common import add_network_arguments, network_from_args
from nnverify.errors import UsageError, one_line
from nnverify.weights import WRITE_FORMATS, save_network

HELP = "convert a weights file (JSON, NPZ, the book's pickle) to JSON or NPZ"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_network_arguments(p)
    p.add_argument("-o", "--output", required=True, metavar="PATH", help="file to write")
    p.add_argument("--format", choices=WRITE_FORMATS, default=None,
                   help="json (layered), json-book (W1, b1, ...) or npz; default from the extension")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")


def run(args: argparse.Namespace) -> int:
    if os.path.exists(args.output) and not args.force:
        raise UsageError(f"{args.output} exists; pass --force to overwrite it")
    network = network_from_args(args)
    save_network(network, args.output, args.format)
    print(f"wrote {one_line(args.output)}: {network.describe()}")
    return 0
