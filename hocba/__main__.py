import sys

from hocba.cli import run

sys.exit(run())
