"""`python -m audio`: the same command line as `audio-edition`."""
from .client import run

run()
