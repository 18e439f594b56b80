"""The link-checking and metadata engine: plain Python, no Django imports."""
