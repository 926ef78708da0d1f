"""The bench's summed memory counts every process of a tree, not only its root (alpha_migrate/bench/child.py)."""

import os
import subprocess
import sys

from alpha_migrate.bench.child import tree_pss_kb

HELD_MB = 200


def test_a_childs_memory_counts_in_its_parents_tree():
    alone = tree_pss_kb(os.getpid())
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import sys; held = bytearray({HELD_MB} << 20); print('ready', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline() == "ready\n"
        with_child = tree_pss_kb(os.getpid())
        assert with_child - alone > HELD_MB * 1024 * 0.95, (alone, with_child)
        assert tree_pss_kb(child.pid) > HELD_MB * 1024 * 0.95
    finally:
        child.communicate("")


def test_a_process_that_is_gone_counts_nothing():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert tree_pss_kb(gone.pid) == 0
