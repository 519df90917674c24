"""``python -m nnverify``: the same entry point as the ``nnverify`` command."""

from nnverify.cli import main_entry

main_entry()
