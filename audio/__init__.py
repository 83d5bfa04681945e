"""audio-edition: turn a news article into a chaptered audio edition, offline."""

__version__ = "0.1.0"
