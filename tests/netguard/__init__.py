"""The network safety net (sitecustomize.py): one guard for the test process and its children."""
