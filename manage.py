#!/usr/bin/env python
"""Django's manage.py; the installed `kopilka` command does the same."""

import sys

from kopilka.cli import main

if __name__ == "__main__":
    sys.exit(main())
