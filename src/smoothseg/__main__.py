"""Allow ``python -m smoothseg``."""

from smoothseg.cli import main

if __name__ == "__main__":
    main()
