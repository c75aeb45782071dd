import sys

from autan.cli.app import main

sys.exit(main())
