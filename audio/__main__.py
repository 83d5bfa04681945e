"""`python -m audio`: the same command line as `audio-edition`."""
from .cli import main

main(prog_name="audio-edition")
