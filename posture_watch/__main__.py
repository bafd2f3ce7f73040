import sys

from posture_watch.cli import main

sys.exit(main())
