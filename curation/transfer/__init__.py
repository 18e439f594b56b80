"""Import and export: curated lists in and out of the catalogue (Markdown, Netscape, CSV, JSON).

Parsers turn a file into plain records (records.py) without touching the database; one
service (importing.import_catalogue) validates them all and writes through the catalogue's
services; exporters read the catalogue and write each format back.
"""
