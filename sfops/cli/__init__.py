"""The `sfops` command-line interface: thin commands over the domain modules."""
