"""`python -m audio`: the same command line as `audio-edition`."""
from .cli.entry import run

run()
