"""python -m services.monitor"""

from services.monitor.app import build

if __name__ == "__main__":
    build().run()
