import sys

from nnverify.cli import main

sys.exit(main())
