"""python -m services.calculator"""

import sys

from services.calculator.app import build
from services.calculator.catalogue import CatalogueError

if __name__ == "__main__":
    try:
        runtime = build()
    except CatalogueError as error:
        sys.exit(f"calculator: the catalogue is not valid: {error}")
    runtime.run()
