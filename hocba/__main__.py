import sys

from hocba.cli import main

sys.exit(main())
