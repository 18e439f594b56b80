#!/usr/bin/env python
from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if (
        sys.argv[1:2] == ["checklinks"]
        and os.environ["DJANGO_SETTINGS_MODULE"] == "config.settings"
    ):
        # Checking a file of links needs neither Django nor the database: start it without
        # them, the way a command-line link checker should (config.settings reads the same
        # LINKCHECK_* variables through the same reader). None: the arguments need Django.
        from curation.checker.cli import main as check_without_django

        code = check_without_django(sys.argv[2:])
        if code is not None:
            sys.exit(code)
    from django.core.management import execute_from_command_line

    from config.env import exit_if_misconfigured

    with exit_if_misconfigured():
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
