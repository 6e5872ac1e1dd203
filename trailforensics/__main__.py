"""``python -m trailforensics``: the same CLI as the ``trailforensics`` command."""

from trailforensics.cli import main

if __name__ == "__main__":
    main()
