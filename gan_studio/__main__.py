"""``python -m gan_studio`` is the command line (also under torchrun)."""

from gan_studio.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
