"""Settings for the whole test run (tests/ and the doctests under qnet/).

The event engine's ``loop="auto"`` starts a background compile of its rules on a first long run
after an install; the suite compares the compiled and plain rules itself, and a compile beside it
would compete for its cores, so it is off here (``QNET_BACKGROUND_COMPILE=0``).
"""

import os

os.environ["QNET_BACKGROUND_COMPILE"] = "0"
