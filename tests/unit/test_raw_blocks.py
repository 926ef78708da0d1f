"""Which blocks of rowids an extract copies again, and when it stops trusting the digests."""

from alpha_migrate.raw_blocks import BLOCK_ROWS, plan

SOURCE = {0: (10, "a"), 1: (10, "b"), 2: (10, "c"), 3: (4, "d")}


def test_only_blocks_whose_digest_differs_are_copied():
    staged = {**SOURCE, 3: (3, "x")}
    chosen = plan(SOURCE, staged, staged_rows=33)
    assert (chosen.full, chosen.changed, chosen.rows_to_copy, chosen.source_rows) == (False, [3], 4, 34)
    assert chosen.ranges() == [(3 * BLOCK_ROWS, 4 * BLOCK_ROWS)]


def test_new_and_vanished_blocks_are_changes_and_neighbours_merge():
    source = {**SOURCE, 4: (1, "e")}
    staged = {0: (10, "a"), 1: (10, "b"), 2: (10, "c"), 3: (4, "d"), 9: (2, "z")}
    chosen = plan(source, staged, staged_rows=36)
    assert chosen.changed == [4, 9]
    assert chosen.rows_to_copy == 1
    assert chosen.ranges() == [(4 * BLOCK_ROWS, 5 * BLOCK_ROWS), (9 * BLOCK_ROWS, 10 * BLOCK_ROWS)]
    ten = {block: (10, str(block)) for block in range(10)}
    chosen = plan(ten, {**ten, 3: (10, "x"), 4: (10, "y"), 7: (10, "z")}, staged_rows=100)
    assert chosen.ranges() == [(3 * BLOCK_ROWS, 5 * BLOCK_ROWS), (7 * BLOCK_ROWS, 8 * BLOCK_ROWS)]


def test_digests_that_do_not_account_for_the_table_are_not_trusted():
    # e.g. the raw table was emptied by hand, or never had digests written
    assert plan(SOURCE, SOURCE, staged_rows=0).full
    assert plan(SOURCE, {}, staged_rows=0).full


def test_mostly_changed_tables_are_copied_whole():
    staged = {0: (10, "a"), 1: (10, "x"), 2: (10, "y"), 3: (4, "z")}
    chosen = plan(SOURCE, staged, staged_rows=34)
    assert chosen.full and chosen.changed == [0, 1, 2, 3] and chosen.rows_to_copy == 34
    assert plan(SOURCE, SOURCE, staged_rows=34).changed == []
