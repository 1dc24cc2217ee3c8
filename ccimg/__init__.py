"""ccimg: the command-line face of the project (select, demo, train, eval, score)."""
