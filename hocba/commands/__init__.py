"""Sub-commands of ``hocba``: thin adapters from argv to the library."""
