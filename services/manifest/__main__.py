"""python -m services.manifest"""

from services.manifest.app import build

if __name__ == "__main__":
    build().run()
